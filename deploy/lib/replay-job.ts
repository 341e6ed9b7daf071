// The scheduled replay: EventBridge Scheduler starts a Step Functions
// workflow that replays a rolling window of the business bus's archive to
// the replay rule only, then polls DescribeReplay until the replay ends.
//
// The seed replayed a fixed window compiled into a Lambda and only logged
// the outcome; here the window follows the schedule, nothing but AWS SDK
// calls run (no function to maintain), and a failed replay fails the
// execution, which an alarm watches.

import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

export interface ReplayJobProps {
  readonly archive: events.Archive;
  readonly bus: events.IEventBus;
  /** The only rule the replay may reach (Destination.FilterArns). */
  readonly replayRule: events.IRule;
  /** Scheduler expression: cron(...) or rate(...), UTC. */
  readonly schedule: string;
  readonly windowMinutes: number;
  /** How far the window ends before the run: the archive's lag. */
  readonly delayMinutes: number;
  /** Seconds between two DescribeReplay calls. */
  readonly pollSeconds?: number;
}

/** Replay names: PREFIX + start + '-' + end (34 chars) <= 64. */
const MAX_PREFIX = 30;
/** Replay states in which the replay is still going. */
const RUNNING_STATES = ['STARTING', 'RUNNING', 'CANCELLING'];

export class ReplayJob extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly schedule: scheduler.Schedule;
  /** Every replay this job starts is named with this prefix. */
  readonly replayNamePrefix: string;

  constructor(scope: Construct, id: string, props: ReplayJobProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.replayNamePrefix = stack.stackName.slice(0, MAX_PREFIX) + '-';

    const window = this.windowState(props);
    const start = tasks.CallAwsService.jsonata(this, 'StartReplay', {
      service: 'eventbridge',
      action: 'startReplay',
      iamAction: 'events:StartReplay',
      iamResources: [props.archive.archiveArn],
      parameters: {
        ReplayName: '{% $states.input.name %}',
        Description: 'scrub mirror: scheduled rolling window',
        EventSourceArn: props.archive.archiveArn,
        EventStartTime: '{% $states.input.start %}',
        EventEndTime: '{% $states.input.end %}',
        Destination: {
          Arn: props.bus.eventBusArn,
          FilterArns: [props.replayRule.ruleArn],
        },
      },
      outputs: '{% $states.input %}',
    });
    // Ten replays at most run at once per account and Region.
    start.addRetry({
      errors: ['EventBridge.LimitExceededException'],
      interval: Duration.minutes(1),
      maxAttempts: 10,
      backoffRate: 1,
    });

    const wait = sfn.Wait.jsonata(this, 'WaitForReplay', {
      time: sfn.WaitTime.duration(
        Duration.seconds(props.pollSeconds ?? 60)),
    });
    // A rerun for the same window finds its replay already there
    // (the name is made from the window) and waits for that one
    // instead of replaying the window twice.
    start.addCatch(wait, {
      errors: ['EventBridge.ResourceAlreadyExistsException'],
      outputs: '{% $states.input %}',
    });

    const describe = tasks.CallAwsService.jsonata(this, 'DescribeReplay', {
      service: 'eventbridge',
      action: 'describeReplay',
      iamAction: 'events:DescribeReplay',
      iamResources: [stack.formatArn({
        service: 'events',
        resource: 'replay',
        resourceName: this.replayNamePrefix + '*',
      })],
      parameters: { ReplayName: '{% $states.input.name %}' },
      outputs: '{% $merge([$states.input, {"state": ' +
        '$states.result.State}]) %}',
    });

    const done = sfn.Choice.jsonata(this, 'ReplayFinished')
      .when(sfn.Condition.jsonata(
        "{% $states.input.state = 'COMPLETED' %}"),
      sfn.Succeed.jsonata(this, 'Replayed'))
      .when(sfn.Condition.jsonata('{% $states.input.state in ' +
        JSON.stringify(RUNNING_STATES).replace(/"/g, "'") + ' %}'),
      wait)
      .otherwise(sfn.Fail.jsonata(this, 'ReplayFailed', {
        error: 'ReplayFailed',
        cause: "{% 'replay ' & $states.input.name & ' ended ' & " +
          '$states.input.state %}',
      }));

    const chain = window.next(start).next(wait).next(describe).next(done);
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      queryLanguage: sfn.QueryLanguage.JSONATA,
      definitionBody: sfn.DefinitionBody.fromChainable(chain),
      timeout: Duration.hours(12),
      logs: {
        destination: new logs.LogGroup(this, 'Logs', {
          retention: logs.RetentionDays.ONE_MONTH,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
        level: sfn.LogLevel.ERROR,
        includeExecutionData: false,
      },
    });

    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      schedule: scheduler.ScheduleExpression.expression(props.schedule),
      description: `replay the last ${props.windowMinutes} min ` +
        'of the business bus to the scrub mirror',
      target: new schedulerTargets.StepFunctionsStartExecution(
        this.stateMachine, {
          input: scheduler.ScheduleTargetInput.fromObject({}),
          retryAttempts: 2,
        }),
    });
  }

  /**
   * The window: [end - window, end) with end = the run's start time,
   * whole minutes, less the delay. An execution started by hand with
   * {"start": ISO, "end": ISO} replays that window instead (a backfill).
   */
  private windowState(props: ReplayJobProps): sfn.Pass {
    const ms = (minutes: number) => String(minutes * 60000);
    const fmt = "'[Y0001][M01][D01]T[H01][m01][s01]Z'";
    const expr = [
      '{% (',
      '$run := $floor($toMillis($states.context.Execution.StartTime)' +
        ' / 60000) * 60000;',
      '$end := $exists($states.input.end) ? ' +
        '$toMillis($states.input.end) : $run - ' +
        ms(props.delayMinutes) + ';',
      '$start := $exists($states.input.start) ? ' +
        '$toMillis($states.input.start) : $end - ' +
        ms(props.windowMinutes) + ';',
      `{"name": '${this.replayNamePrefix}' & ` +
        `$fromMillis($start, ${fmt}) & '-' & ` +
        `$fromMillis($end, ${fmt}),`,
      '"start": $fromMillis($start), "end": $fromMillis($end)}',
      ') %}',
    ].join(' ');
    return sfn.Pass.jsonata(this, 'Window', { outputs: expr });
  }
}
