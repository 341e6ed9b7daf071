// The prod side of the mirror:
//
//   business bus ──archive──▶ replay (ReplayJob, scheduled)
//        │
//        └─ replay rule ("replay-name" exists) ─▶ Kinesis stream
//              ─▶ Pipe: scrub Lambda as enrichment ─▶ mirror bus
//              ─▶ forward rule ─▶ lower-environment bus (other account)
//
// The Pipe's target must be a bus in the same account and Region, hence
// the mirror bus and its forwarding rule. Each step that can fail has a
// dead-letter queue, and every queue and the Lambda's own metrics have an
// alarm.

import * as fs from 'fs';
import * as path from 'path';
import {
  Annotations, CfnOutput, CfnRule, Duration, Fn, RemovalPolicy, Stack,
  StackProps, Stage,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as pipes from 'aws-cdk-lib/aws-pipes';
import * as secrets from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ConfigError, MirrorConfig, lambdaCodeExists } from './config';
import { livePattern, replayPattern } from './replay-convention';
import { ReplayJob } from './replay-job';

export interface ProdMirrorStackProps extends StackProps {
  readonly config: MirrorConfig;
}

/** Where the optional policy layer puts the compiled policy. */
export const LAYER_POLICY_PATH = '/opt/policy.scrubc';
/** First bytes of a compiled policy (VM_MAGIC in vm/bytecode.h). */
const BYTECODE_MAGIC = 'SCRB';
/** The event-bus target takes at most this many items per call. */
export const BUS_TARGET_MAX_BATCH = 10;
/** Stands in for a missing Lambda package so that synth still works. */
const NO_LAMBDA_DIR = path.join(__dirname, '..', '..', 'assets',
  'no-lambda');

export class ProdMirrorStack extends Stack {
  readonly businessBus: events.IEventBus;
  readonly archive: events.Archive;
  readonly replayRule: events.Rule;
  readonly stream: kinesis.Stream;
  readonly scrubFunction: lambda.Function;
  readonly mirrorBus: events.EventBus;
  readonly pipe: pipes.CfnPipe;
  readonly pipeDlq: sqs.Queue;
  readonly deliveryDlq: sqs.Queue;
  readonly replayJob: ReplayJob;
  readonly alarmTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: ProdMirrorStackProps) {
    super(scope, id, props);
    const cfg = props.config;

    this.businessBus = cfg.importBusinessBus
      ? events.EventBus.fromEventBusName(this, 'BusinessBus',
        cfg.businessBusName)
      : new events.EventBus(this, 'BusinessBus', {
        eventBusName: cfg.businessBusName,
      });
    // Replayed events never enter an archive, so the archive holds
    // only live traffic: everything this account puts on the bus.
    this.archive = new events.Archive(this, 'Archive', {
      sourceEventBus: this.businessBus,
      description: 'business bus, source of the scrub mirror replays',
      eventPattern: { account: [this.account] },
      retention: Duration.days(cfg.archiveRetentionDays),
    });

    this.pipeDlq = this.deadLetterQueue('PipeDlq');
    this.deliveryDlq = this.deadLetterQueue('DeliveryDlq');

    // Records hold unscrubbed production events: encrypted at rest,
    // kept one day (the default retention).
    this.stream = new kinesis.Stream(this, 'ReplayStream', {
      shardCount: cfg.streamShards,
      encryption: kinesis.StreamEncryption.MANAGED,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.replayRule = new events.Rule(this, 'ReplayRule', {
      eventBus: this.businessBus,
      description: 'replayed events only, to the scrub mirror stream',
      eventPattern: replayPattern(),
      targets: [new targets.KinesisStream(this.stream, {
        deadLetterQueue: this.deliveryDlq,
        retryAttempts: 10,
      })],
    });

    this.scrubFunction = this.scrubLambda(cfg);
    this.mirrorBus = new events.EventBus(this, 'MirrorBus');
    this.forwardToLowerEnv(cfg);
    this.pipe = this.scrubPipe(cfg);

    this.replayJob = new ReplayJob(this, 'ReplayJob', {
      archive: this.archive,
      bus: this.businessBus,
      replayRule: this.replayRule,
      schedule: cfg.replaySchedule,
      windowMinutes: cfg.replayWindowMinutes,
      delayMinutes: cfg.replayDelayMinutes,
    });

    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'scrub mirror alarms',
    });
    if (cfg.alarmEmail !== '')
      this.alarmTopic.addSubscription(
        new subs.EmailSubscription(cfg.alarmEmail));
    this.alarms(cfg);
    this.outputs();
  }

  private deadLetterQueue(id: string): sqs.Queue {
    return new sqs.Queue(this, id, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
  }

  /**
   * The enrichment: the C custom runtime from `make lambda`. Its key for
   * pseudonyms is generated in Secrets Manager and reaches the function
   * as SCRUB_KEY through a CloudFormation dynamic reference, so the key
   * is never in the template or the repository.
   */
  private scrubLambda(cfg: MirrorConfig): lambda.Function {
    const key = new secrets.Secret(this, 'PseudonymKey', {
      description: 'scrub pseudonymization key (SCRUB_KEY)',
      generateSecretString: {
        passwordLength: 64,
        excludePunctuation: true,
      },
    });
    const environment: Record<string, string> = {
      SCRUB_KEY: key.secretValue.unsafeUnwrap(),
      SCRUB_MAX_BATCH: String(BUS_TARGET_MAX_BATCH),
    };
    if (cfg.onReject !== '')
      environment.SCRUB_ON_REJECT = cfg.onReject;

    const layers: lambda.ILayerVersion[] = [];
    if (cfg.policy !== '') {
      layers.push(new lambda.LayerVersion(this, 'PolicyLayer', {
        description: 'compiled scrub policy ' +
          path.basename(cfg.policy),
        code: lambda.Code.fromAsset(policyLayerDir(
          cfg.policy, Stage.of(this)!.outdir)),
        compatibleRuntimes: [lambda.Runtime.PROVIDED_AL2023],
      }));
      environment.SCRUB_POLICY = LAYER_POLICY_PATH;
    }

    const fn = new lambda.Function(this, 'ScrubFunction', {
      description: 'scrub: EventBridge Pipe enrichment (C runtime)',
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: cfg.lambdaArchitecture === 'arm64'
        ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
      // Custom runtimes get the handler string but need none.
      handler: 'bootstrap',
      code: lambda.Code.fromAsset(this.lambdaCodePath(cfg)),
      layers,
      memorySize: 256,
      // Well under the Pipe's 5-minute limit for one execution.
      timeout: Duration.seconds(60),
      environment,
      logGroup: new logs.LogGroup(this, 'ScrubFunctionLogs', {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });
    return fn;
  }

  /**
   * The package from `make lambda`, or, when it has not been built, a
   * stand-in with a warning at synth and a template rule that makes
   * CloudFormation refuse to deploy it.
   */
  private lambdaCodePath(cfg: MirrorConfig): string {
    if (lambdaCodeExists(cfg))
      return cfg.lambdaCode;
    const msg = "the Lambda package (context 'lambdaCode') is " +
      'missing: run `make lambda POLICY=FILE` in the repository ' +
      'root, then synthesize again';
    Annotations.of(this).addWarningV2('scrub:noLambdaPackage', msg);
    new CfnRule(this, 'LambdaPackageBuilt', {
      assertions: [{
        assert: Fn.conditionEquals('missing', 'built'),
        assertDescription: msg,
      }],
    });
    return NO_LAMBDA_DIR;
  }

  /** Everything on the mirror bus goes to the lower environment. */
  private forwardToLowerEnv(cfg: MirrorConfig): void {
    const lower = events.EventBus.fromEventBusArn(this, 'LowerEnvBus',
      cfg.lowerEnvBusArn);
    new events.Rule(this, 'ForwardRule', {
      eventBus: this.mirrorBus,
      description: 'scrubbed events to the lower-environment bus',
      eventPattern: livePattern({ account: [this.account] }),
      targets: [new targets.EventBus(lower, {
        deadLetterQueue: this.deliveryDlq,
      })],
    });
  }

  /**
   * Kinesis → scrub Lambda → mirror bus. The Lambda answers with the
   * scrubbed events themselves (envelope and detail). Pipes evaluates
   * the target's JSON paths and input template on what the enrichment
   * returned, so each event keeps its source, detail-type and time and
   * its detail becomes the new event's detail; the seed instead sent
   * every event with the fixed detail-type "manualDetailType".
   */
  private scrubPipe(cfg: MirrorConfig): pipes.CfnPipe {
    const role = new iam.Role(this, 'PipeRole', {
      assumedBy: new iam.ServicePrincipal('pipes.amazonaws.com'),
    });
    this.stream.grantRead(role);
    this.scrubFunction.grantInvoke(role);
    this.mirrorBus.grantPutEventsTo(role);
    this.pipeDlq.grantSendMessages(role);
    const logGroup = new logs.LogGroup(this, 'PipeLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    logGroup.grantWrite(role);

    const pipe = new pipes.CfnPipe(this, 'ScrubPipe', {
      description: 'replayed events through the scrub policy',
      roleArn: role.roleArn,
      source: this.stream.streamArn,
      sourceParameters: {
        kinesisStreamParameters: {
          // From the oldest record kept: records put before
          // the pipe ran are still mirrored.
          startingPosition: 'TRIM_HORIZON',
          batchSize: cfg.batchSize,
          maximumRetryAttempts: 3,
          // Below the stream's 24-hour retention.
          maximumRecordAgeInSeconds: 6 * 3600,
          // A failing batch is split until the bad record is
          // alone; it then goes to the DLQ, the rest through.
          onPartialBatchItemFailure: 'AUTOMATIC_BISECT',
          deadLetterConfig: { arn: this.pipeDlq.queueArn },
        },
      },
      enrichment: this.scrubFunction.functionArn,
      target: this.mirrorBus.eventBusArn,
      targetParameters: {
        eventBridgeEventBusParameters: {
          source: '$.source',
          detailType: '$.detail-type',
          time: '$.time',
        },
        inputTemplate: '<$.detail>',
      },
      // Errors only, and never the events themselves.
      logConfiguration: {
        level: 'ERROR',
        cloudwatchLogsLogDestination: {
          logGroupArn: logGroup.logGroupArn,
        },
      },
    });
    // The role's policy must exist before Pipes checks the source.
    pipe.node.addDependency(role);
    return pipe;
  }

  private alarms(cfg: MirrorConfig): void {
    const action = new cwActions.SnsAction(this.alarmTopic);
    const five = Duration.minutes(5);
    const add = (id: string, description: string,
      metric: cloudwatch.IMetric) => {
      const alarm = new cloudwatch.Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator
          .GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
    };

    add('RejectedAlarm', 'scrub rejected records (EMF metric ' +
      `${cfg.metricsNamespace}/${cfg.rejectedMetricName})`,
    new cloudwatch.Metric({
      namespace: cfg.metricsNamespace,
      metricName: cfg.rejectedMetricName,
      dimensionsMap: cfg.metricDimensions,
      statistic: cloudwatch.Stats.SUM,
      period: five,
    }));
    add('LambdaErrorsAlarm', 'scrub Lambda failed batches or crashed',
      this.scrubFunction.metricErrors({ period: five }));
    add('PipeDlqAlarm', 'batches the Pipe gave up on',
      this.pipeDlq.metricApproximateNumberOfMessagesVisible({
        period: five, statistic: cloudwatch.Stats.MAXIMUM,
      }));
    add('DeliveryDlqAlarm', 'events a rule could not deliver',
      this.deliveryDlq.metricApproximateNumberOfMessagesVisible({
        period: five, statistic: cloudwatch.Stats.MAXIMUM,
      }));
    const sm = this.replayJob.stateMachine;
    add('ReplayFailedAlarm', 'scheduled replay failed',
      sm.metricFailed({ period: five }));
    add('ReplayTimedOutAlarm', 'scheduled replay timed out',
      sm.metricTimedOut({ period: five }));
  }

  private outputs(): void {
    new CfnOutput(this, 'BusinessBusArn', {
      value: this.businessBus.eventBusArn,
    });
    new CfnOutput(this, 'MirrorBusArn', {
      value: this.mirrorBus.eventBusArn,
    });
    new CfnOutput(this, 'ReplayStateMachineArn', {
      value: this.replayJob.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'ScrubFunctionName', {
      value: this.scrubFunction.functionName,
    });
    new CfnOutput(this, 'PipeName', { value: this.pipe.ref });
  }
}

/**
 * A directory holding only the compiled policy, named as the Lambda finds
 * it under /opt, made in the cloud assembly's directory: the asset is
 * content-hashed and copied from there at synth.
 */
function policyLayerDir(policy: string, outdir: string): string {
  if (!fs.existsSync(policy))
    throw new ConfigError(`context 'policy': ${policy} does not exist`);
  const magic = Buffer.alloc(BYTECODE_MAGIC.length);
  const fd = fs.openSync(policy, 'r');
  fs.readSync(fd, magic, 0, magic.length, 0);
  fs.closeSync(fd);
  if (magic.toString('latin1') !== BYTECODE_MAGIC)
    throw new ConfigError(`context 'policy': ${policy} is not scrub ` +
      'bytecode (scrubc build FILE.scrub -o FILE.scrubc)');
  const dir = path.join(outdir, 'scrub-policy-layer');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(policy, path.join(dir, path.basename(LAYER_POLICY_PATH)));
  return dir;
}
