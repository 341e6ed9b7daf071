// Context checking: the shipped defaults, and one row per bad value with
// the exact message synth stops with.

import * as assert from 'assert/strict';
import * as path from 'path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../lib/config';
import { livePattern, replayPattern } from '../lib/replay-convention';
import { DEPLOY_DIR, shippedContext } from './helpers';

function load(overrides: Record<string, unknown>) {
  const ctx = { ...shippedContext(), ...overrides };
  return loadConfig({ tryGetContext: (k) => ctx[k] }, DEPLOY_DIR);
}

test('the shipped cdk.json context', () => {
  assert.deepEqual(load({}), {
    prodAccountId: '111122223333',
    lowerEnvBusArn:
      'arn:aws:events:us-east-1:444455556666:event-bus/scrub-mirror',
    lowerEnvBusName: 'scrub-mirror',
    businessBusName: 'EventBusWithBizTransactions',
    importBusinessBus: false,
    archiveRetentionDays: 30,
    lambdaCode: path.join(DEPLOY_DIR, '..', 'build', 'lambda',
      'scrub-lambda.zip'),
    policy: '',
    lambdaArchitecture: 'x86_64',
    onReject: '',
    batchSize: 10,
    streamShards: 1,
    replaySchedule: 'cron(15 3 * * ? *)',
    replayWindowMinutes: 60,
    replayDelayMinutes: 10,
    metricsNamespace: 'Scrub',
    metricDimensions: { Policy: 'seed-fin-transactions' },
    rejectedMetricName: 'Rejected',
    alarmEmail: '',
  });
});

test('values given with -c arrive as strings', () => {
  const c = load({
    batchSize: '4', importBusinessBus: 'true',
    metricDimensions: '{"Policy":"seed"}',
    policy: '../build/seed.scrubc',
  });
  assert.equal(c.batchSize, 4);
  assert.equal(c.importBusinessBus, true);
  assert.deepEqual(c.metricDimensions, { Policy: 'seed' });
  assert.equal(c.policy, path.join(DEPLOY_DIR, '..', 'build',
    'seed.scrubc'));
});

const BAD: Array<[string, Record<string, unknown>, string]> = [
  ['batch over the bus target limit', { batchSize: 11 },
    "context 'batchSize' must be an integer from 1 to 10"],
  ['batch of zero', { batchSize: '0' },
    "context 'batchSize' must be an integer from 1 to 10"],
  ['batch not a number', { batchSize: 'ten' },
    "context 'batchSize' must be an integer from 1 to 10"],
  ['fractional window', { replayWindowMinutes: 1.5 },
    "context 'replayWindowMinutes' must be an integer from 1 to 1440"],
  ['missing key', { prodAccountId: undefined },
    "context 'prodAccountId' is not set (see cdk.json)"],
  ['short account', { prodAccountId: '12345' },
    "context 'prodAccountId' must be a 12-digit account id"],
  ['account as a number', { prodAccountId: 111122223333 },
    "context 'prodAccountId' must be a string"],
  ['not a bus ARN', {
    lowerEnvBusArn: 'arn:aws:sqs:us-east-1:444455556666:q',
  }, "context 'lowerEnvBusArn' must be an event bus ARN " +
    '(arn:aws:events:REGION:ACCOUNT:event-bus/NAME)'],
  ['lower bus in the prod account', {
    lowerEnvBusArn:
      'arn:aws:events:us-east-1:111122223333:event-bus/stage',
  }, "context 'lowerEnvBusArn' is in the prod account; the mirror " +
    'needs a separate account'],
  ['lower bus is the default bus', {
    lowerEnvBusArn:
      'arn:aws:events:us-east-1:444455556666:event-bus/default',
  }, "context 'lowerEnvBusArn' names the default bus; the lower stack " +
    'creates its own bus'],
  ['policy source, not bytecode', { policy: '../policies/x.scrub' },
    "context 'policy' must be a compiled policy (.scrubc): " +
    'scrubc build FILE.scrub -o FILE.scrubc'],
  ['architecture', { lambdaArchitecture: 'arm' },
    "context 'lambdaArchitecture' must be x86_64 or arm64"],
  ['schedule', { replaySchedule: '0 3 * * *' },
    "context 'replaySchedule' must be a cron(...) or rate(...) " +
    'expression'],
  ['boolean', { importBusinessBus: 'yes' },
    "context 'importBusinessBus' must be true or false"],
  ['dimensions not JSON', { metricDimensions: '{Policy:seed}' },
    "context 'metricDimensions' is not valid JSON"],
  ['dimension not a string', { metricDimensions: { Shard: 1 } },
    "context 'metricDimensions' must be an object of string values"],
  ['reject mode', { onReject: 'skip' },
    "context 'onReject' must be fail, drop or ''"],
  ['alarm address', { alarmEmail: 'ops' },
    "context 'alarmEmail' is not an address"],
];

for (const [name, overrides, message] of BAD) {
  test(`rejects: ${name}`, () => {
    assert.throws(() => load(overrides),
      (e: unknown) => e instanceof ConfigError &&
        e.message === message);
  });
}

test('replay-name convention: live and replay patterns', () => {
  assert.deepEqual(livePattern({ source: ['com.example.orders'] }), {
    'source': ['com.example.orders'],
    'replay-name': [{ exists: false }],
  });
  assert.deepEqual(replayPattern(), {
    'replay-name': [{ exists: true }],
  });
  const twice = { 'replay-name': [{ exists: true }] } as object;
  assert.throws(() => livePattern(twice),
    { message: "the pattern already constrains 'replay-name'" });
});
