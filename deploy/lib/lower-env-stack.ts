// The lower-environment side: the bus the mirror delivers to, open to
// PutEvents from the prod account only, and a rule that copies what
// arrives into a log group so that a person can look at it.

import {
  ArnFormat, CfnOutput, RemovalPolicy, Stack, StackProps,
} from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { MirrorConfig } from './config';

export interface LowerEnvStackProps extends StackProps {
  readonly config: MirrorConfig;
}

export class LowerEnvStack extends Stack {
  readonly bus: events.EventBus;
  readonly inspectLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: LowerEnvStackProps) {
    super(scope, id, props);
    const cfg = props.config;

    // Named as in lowerEnvBusArn, which the prod stack sends to.
    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: cfg.lowerEnvBusName,
      description: 'scrubbed events mirrored from prod',
    });
    this.bus.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowProdMirror',
      principals: [new iam.AccountPrincipal(cfg.prodAccountId)],
      actions: ['events:PutEvents'],
      resources: [this.bus.eventBusArn],
    }));

    // Mirrored events keep the prod account in their "account"
    // field: this sample rule sees exactly what the mirror sent.
    this.inspectLogs = new logs.LogGroup(this, 'InspectLogs', {
      logGroupName: `/aws/events/${cfg.lowerEnvBusName}-inspect`,
      retention: logs.RetentionDays.ONE_WEEK,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const rule = new events.Rule(this, 'InspectRule', {
      eventBus: this.bus,
      description: 'sample consumer: mirrored events to a log group',
      eventPattern: { account: [cfg.prodAccountId] },
    });
    rule.addTarget(this.logGroupTarget(rule));

    new CfnOutput(this, 'BusArn', { value: this.bus.eventBusArn });
    new CfnOutput(this, 'InspectLogGroup', {
      value: this.inspectLogs.logGroupName,
    });
  }

  /**
   * The log group as the rule's target, with the resource policy that
   * lets this rule (and only it) write there. CDK's CloudWatchLogGroup
   * target would install that policy through a custom-resource Lambda;
   * AWS::Logs::ResourcePolicy does it natively.
   */
  private logGroupTarget(rule: events.Rule): events.IRuleTarget {
    new logs.ResourcePolicy(this, 'InspectLogsPolicy', {
      policyStatements: [new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.inspectLogs.logGroupArn],
        conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleArn } },
      })],
    });
    // A rule names a log group without the ':*' of its IAM ARN.
    const arn = this.formatArn({
      service: 'logs',
      resource: 'log-group',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      resourceName: this.inspectLogs.logGroupName,
    });
    return { bind: () => ({ arn }) };
  }
}
