// The scheduled replay: the schedule, the workflow's states, what it asks
// StartReplay for, its permissions, and the window it computes, evaluated
// with the JSONata version Step Functions implements (2.0.6).

import * as assert from 'assert/strict';
import { test } from 'node:test';
import jsonata = require('jsonata');
import { build, flatten, logicalId, only } from './helpers';

const t = build().prodTemplate;
const smId = logicalId(t, 'AWS::StepFunctions::StateMachine',
  'ReplayJob/StateMachine/Resource');
const sm = only(t, 'AWS::StepFunctions::StateMachine').Properties;
const def = JSON.parse(flatten(sm.DefinitionString));
const bizBusId = logicalId(t, 'AWS::Events::EventBus', 'BusinessBus/Resource');
const archiveId = logicalId(t, 'AWS::Events::Archive', 'Archive/Archive');
const ruleId = logicalId(t, 'AWS::Events::Rule', 'ReplayRule/Resource');

test('schedule: daily, starts the workflow with an empty input', () => {
  const s = only(t, 'AWS::Scheduler::Schedule').Properties;
  assert.equal(s.ScheduleExpression, 'cron(15 3 * * ? *)');
  assert.equal(s.ScheduleExpressionTimezone, 'Etc/UTC');
  assert.deepEqual(s.FlexibleTimeWindow, { Mode: 'OFF' });
  assert.equal(s.State, 'ENABLED');
  assert.deepEqual(s.Target.Arn, { Ref: smId });
  assert.equal(s.Target.Input, '{}');
  assert.equal(s.Target.RetryPolicy.MaximumRetryAttempts, 2);
});

test('workflow: window, replay, wait until the replay ends', () => {
  assert.equal(def.QueryLanguage, 'JSONata');
  assert.equal(def.StartAt, 'Window');
  assert.equal(def.TimeoutSeconds, 43200);
  const flow = Object.fromEntries(Object.entries(def.States)
    .map(([name, s]: [string, any]) => [name, s.Type + ' -> ' +
      (s.Next ?? (s.Choices ? s.Choices.map((c: any) => c.Next)
        .concat(s.Default).join('|') : '.'))]));
  assert.deepEqual(flow, {
    Window: 'Pass -> StartReplay',
    StartReplay: 'Task -> WaitForReplay',
    WaitForReplay: 'Wait -> DescribeReplay',
    DescribeReplay: 'Task -> ReplayFinished',
    ReplayFinished: 'Choice -> Replayed|WaitForReplay|ReplayFailed',
    Replayed: 'Succeed -> .',
    ReplayFailed: 'Fail -> .',
  });
  assert.equal(def.States.WaitForReplay.Seconds, 60);
  assert.deepEqual(def.States.ReplayFinished.Choices.map(
    (c: any) => c.Condition), [
    "{% $states.input.state = 'COMPLETED' %}",
    "{% $states.input.state in ['STARTING','RUNNING','CANCELLING'] %}",
  ]);
  assert.equal(def.States.ReplayFailed.Error, 'ReplayFailed');
});

test('StartReplay: the archive, to the replay rule only', () => {
  const s = def.States.StartReplay;
  assert.equal(s.Resource,
    'arn:${AWS::Partition}:states:::aws-sdk:eventbridge:startReplay');
  assert.deepEqual(s.Arguments, {
    ReplayName: '{% $states.input.name %}',
    Description: 'scrub mirror: scheduled rolling window',
    EventSourceArn: '${' + archiveId + '.Arn}',
    EventStartTime: '{% $states.input.start %}',
    EventEndTime: '{% $states.input.end %}',
    Destination: {
      Arn: '${' + bizBusId + '.Arn}',
      FilterArns: ['${' + ruleId + '.Arn}'],
    },
  });
  assert.deepEqual(s.Retry, [{
    ErrorEquals: ['EventBridge.LimitExceededException'],
    IntervalSeconds: 60, MaxAttempts: 10, BackoffRate: 1,
  }]);
  assert.deepEqual(s.Catch, [{
    ErrorEquals: ['EventBridge.ResourceAlreadyExistsException'],
    Next: 'WaitForReplay',
    Output: '{% $states.input %}',
  }]);
  assert.deepEqual(def.States.DescribeReplay.Arguments,
    { ReplayName: '{% $states.input.name %}' });
});

test('workflow role: start replays of the archive, describe its own', () => {
  const roleId = logicalId(t, 'AWS::IAM::Role',
    'ReplayJob/StateMachine/Role/Resource');
  const pol = Object.values(t.findResources('AWS::IAM::Policy'))
    .find((x) => x.Properties.Roles[0].Ref === roleId)!;
  const [start, describe] = pol.Properties.PolicyDocument.Statement;
  assert.deepEqual(start, {
    Action: 'events:StartReplay', Effect: 'Allow',
    Resource: { 'Fn::GetAtt': [archiveId, 'Arn'] },
  });
  assert.equal(describe.Action, 'events:DescribeReplay');
  assert.equal(flatten(describe.Resource),
    'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:' +
    'replay/ScrubMirrorProd-*');
});

/** Runs the Window state's expression as Step Functions would. */
async function windowOf(startTime: string, input: object) {
  const expr = def.States.Window.Output.replace(/^\{%|%\}$/g, '');
  return jsonata(expr).evaluate({}, {
    states: { input, context: { Execution: { StartTime: startTime } } },
  });
}

const WINDOWS: Array<[string, string, object, object]> = [
  ['scheduled run: the hour ending 10 minutes before the run',
    '2024-05-01T03:15:07.412Z', {}, {
      name: 'ScrubMirrorProd-20240501T020500Z-20240501T030500Z',
      start: '2024-05-01T02:05:00.000Z',
      end: '2024-05-01T03:05:00.000Z',
    }],
  ['run across midnight',
    '2024-05-01T00:05:59.999Z', {}, {
      name: 'ScrubMirrorProd-20240430T225500Z-20240430T235500Z',
      start: '2024-04-30T22:55:00.000Z',
      end: '2024-04-30T23:55:00.000Z',
    }],
  ['backfill: the window given as input',
    '2024-05-01T03:15:07.412Z', {
      start: '2023-04-20T16:53:02Z', end: '2023-04-28T16:53:02Z',
    }, {
      name: 'ScrubMirrorProd-20230420T165302Z-20230428T165302Z',
      start: '2023-04-20T16:53:02.000Z',
      end: '2023-04-28T16:53:02.000Z',
    }],
  ['only the end given: the hour before it',
    '2024-05-01T03:15:07.412Z', { end: '2024-01-01T00:00:00Z' }, {
      name: 'ScrubMirrorProd-20231231T230000Z-20240101T000000Z',
      start: '2023-12-31T23:00:00.000Z',
      end: '2024-01-01T00:00:00.000Z',
    }],
];

for (const [name, startTime, input, want] of WINDOWS) {
  test(`window: ${name}`, async () => {
    const got = await windowOf(startTime, input);
    assert.deepEqual({ ...got }, want);
    assert.ok(got.name.length <= 64);
    assert.match(got.name, /^[.\-_A-Za-z0-9]+$/);
  });
}

test('window length and delay come from context', async () => {
  const b = build({ replayWindowMinutes: 15, replayDelayMinutes: '0' });
  const d = JSON.parse(flatten(only(b.prodTemplate,
    'AWS::StepFunctions::StateMachine').Properties.DefinitionString));
  const expr = d.States.Window.Output.replace(/^\{%|%\}$/g, '');
  const got = await jsonata(expr).evaluate({}, { states: { input: {},
    context: { Execution: { StartTime: '2024-05-01T03:15:07Z' } } } });
  assert.equal(got.start, '2024-05-01T03:00:00.000Z');
  assert.equal(got.end, '2024-05-01T03:15:00.000Z');
});
