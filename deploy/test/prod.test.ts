// The prod mirror stack as synthesized: the resources, the Pipe (batch,
// enrichment, target parameters, DLQ), the rules and their replay-name
// clauses, the Lambda's settings, the alarms and the permissions.

import * as assert from 'assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { test } from 'node:test';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { build, logicalId, only, resourceCounts } from './helpers';

const base = build();
const t = base.prodTemplate;
const fnId = logicalId(t, 'AWS::Lambda::Function', 'ScrubFunction/Resource');
const streamId = logicalId(t, 'AWS::Kinesis::Stream', 'ReplayStream/Resource');
const bizBusId = logicalId(t, 'AWS::Events::EventBus', 'BusinessBus/Resource');
const mirrorBusId = logicalId(t, 'AWS::Events::EventBus', 'MirrorBus/Resource');
const pipeDlqId = logicalId(t, 'AWS::SQS::Queue', 'PipeDlq/Resource');
const deliveryDlqId = logicalId(t, 'AWS::SQS::Queue', 'DeliveryDlq/Resource');
const smId = logicalId(t, 'AWS::StepFunctions::StateMachine',
  'ReplayJob/StateMachine/Resource');
const arn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

test('resources of the prod stack', () => {
  // Roles: the two rules', the Lambda's, the Pipe's, the workflow's and
  // the schedule's; the Lambda's needs no inline policy.
  assert.deepEqual(resourceCounts(t), {
    'AWS::CloudWatch::Alarm': 6,
    'AWS::Events::Archive': 1,
    'AWS::Events::EventBus': 2,
    'AWS::Events::Rule': 2,
    'AWS::IAM::Policy': 5,
    'AWS::IAM::Role': 6,
    'AWS::Kinesis::Stream': 1,
    'AWS::Lambda::Function': 1,
    'AWS::Logs::LogGroup': 3,
    'AWS::Pipes::Pipe': 1,
    'AWS::SNS::Topic': 1,
    'AWS::SQS::Queue': 2,
    'AWS::SQS::QueuePolicy': 2,
    'AWS::Scheduler::Schedule': 1,
    'AWS::SecretsManager::Secret': 1,
    'AWS::StepFunctions::StateMachine': 1,
  });
  t.hasResourceProperties('AWS::Events::EventBus',
    { Name: 'EventBusWithBizTransactions' });
});

test('archive of the business bus', () => {
  t.hasResourceProperties('AWS::Events::Archive', {
    SourceArn: arn(bizBusId),
    EventPattern: { account: [{ Ref: 'AWS::AccountId' }] },
    RetentionDays: 30,
  });
});

test('replay rule: replayed events only, to the stream', () => {
  t.hasResourceProperties('AWS::Events::Rule', {
    EventBusName: { Ref: bizBusId },
    EventPattern: { 'replay-name': [{ exists: true }] },
    Targets: [Match.objectLike({
      Arn: arn(streamId),
      DeadLetterConfig: { Arn: arn(deliveryDlqId) },
      RetryPolicy: { MaximumRetryAttempts: 10 },
    })],
  });
});

test('forward rule: live clause, to the lower bus by ARN', () => {
  t.hasResourceProperties('AWS::Events::Rule', {
    EventBusName: { Ref: mirrorBusId },
    EventPattern: {
      'account': [{ Ref: 'AWS::AccountId' }],
      'replay-name': [{ exists: false }],
    },
    Targets: [Match.objectLike({
      Arn: 'arn:aws:events:us-east-1:444455556666:event-bus/' +
        'scrub-mirror',
      DeadLetterConfig: { Arn: arn(deliveryDlqId) },
    })],
  });
});

test('pipe: stream source, batch, DLQ, scrub enrichment, bus target', () => {
  const p = only(t, 'AWS::Pipes::Pipe').Properties;
  assert.deepEqual(p.Source, arn(streamId));
  assert.deepEqual(p.SourceParameters, {
    KinesisStreamParameters: {
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 10,
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 21600,
      OnPartialBatchItemFailure: 'AUTOMATIC_BISECT',
      DeadLetterConfig: { Arn: arn(pipeDlqId) },
    },
  });
  assert.deepEqual(p.Enrichment, arn(fnId));
  assert.equal(p.EnrichmentParameters, undefined);
  assert.deepEqual(p.Target, arn(mirrorBusId));
  assert.deepEqual(p.TargetParameters, {
    EventBridgeEventBusParameters: {
      Source: '$.source',
      DetailType: '$.detail-type',
      Time: '$.time',
    },
    InputTemplate: '<$.detail>',
  });
  assert.equal(p.LogConfiguration.Level, 'ERROR');
  assert.equal(p.LogConfiguration.IncludeExecutionData, undefined);
});

test('pipe batch size comes from context', () => {
  const p = only(build({ batchSize: '3' }).prodTemplate,
    'AWS::Pipes::Pipe').Properties;
  assert.equal(p.SourceParameters.KinesisStreamParameters.BatchSize, 3);
});

test('pipe role: read the stream, invoke, put, dead-letter, log', () => {
  const roleId = logicalId(t, 'AWS::IAM::Role', 'PipeRole/Resource');
  const pol = Object.values(t.findResources('AWS::IAM::Policy'))
    .find((x) => x.Properties.Roles[0].Ref === roleId)!;
  const actions = pol.Properties.PolicyDocument.Statement
    .map((s: any) => [s.Action].flat().join(' '));
  assert.deepEqual(actions, [
    'kinesis:DescribeStream kinesis:DescribeStreamConsumer ' +
    'kinesis:DescribeStreamSummary kinesis:GetRecords ' +
    'kinesis:GetShardIterator kinesis:ListShards ' +
    'kinesis:ListStreams kinesis:SubscribeToShard',
    'lambda:InvokeFunction',
    'events:PutEvents',
    'sqs:GetQueueAttributes sqs:GetQueueUrl sqs:SendMessage',
    'logs:CreateLogStream logs:PutLogEvents',
  ]);
  const put = pol.Properties.PolicyDocument.Statement[2];
  assert.deepEqual(put.Resource, arn(mirrorBusId));
});

test('scrub Lambda: custom runtime, key by reference, batch limit', () => {
  const p = t.findResources('AWS::Lambda::Function')[fnId].Properties;
  assert.equal(p.Runtime, 'provided.al2023');
  assert.equal(p.Handler, 'bootstrap');
  assert.deepEqual(p.Architectures, ['x86_64']);
  assert.equal(p.Timeout, 60);
  const secretId = logicalId(t, 'AWS::SecretsManager::Secret',
    'PseudonymKey/Resource');
  assert.deepEqual(p.Environment.Variables, {
    SCRUB_KEY: { 'Fn::Join': ['', ['{{resolve:secretsmanager:',
      { Ref: secretId }, ':SecretString:::}}']] },
    SCRUB_MAX_BATCH: '10',
  });
  assert.equal(p.Layers, undefined);
});

test('a compiled policy from context ships as a layer', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scrub-policy-'));
  const policy = path.join(dir, 'seed.scrubc');
  fs.writeFileSync(policy, 'SCRB');
  try {
    const b = build({ policy, onReject: 'drop',
      lambdaArchitecture: 'arm64' });
    const pt = b.prodTemplate;
    const layer = only(pt, 'AWS::Lambda::LayerVersion').Properties;
    assert.deepEqual(layer.CompatibleRuntimes, ['provided.al2023']);
    assert.equal(layer.Description, 'compiled scrub policy seed.scrubc');
    const fn = only(pt, 'AWS::Lambda::Function').Properties;
    assert.deepEqual(fn.Layers, [{ Ref: logicalId(pt,
      'AWS::Lambda::LayerVersion', 'PolicyLayer/Resource') }]);
    assert.equal(fn.Environment.Variables.SCRUB_POLICY,
      '/opt/policy.scrubc');
    assert.equal(fn.Environment.Variables.SCRUB_ON_REJECT, 'drop');
    assert.deepEqual(fn.Architectures, ['arm64']);
    const staged = path.join(b.app.outdir, 'scrub-policy-layer',
      'policy.scrubc');
    assert.equal(fs.readFileSync(staged, 'utf8'), 'SCRB');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing policy file stops synth', () => {
  assert.throws(() => build({ policy: '/nonexistent/p.scrubc' }), {
    message: "context 'policy': /nonexistent/p.scrubc does not exist",
  });
});

test('a policy that is not bytecode stops synth', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scrub-policy-'));
  const policy = path.join(dir, 'source.scrubc');
  fs.writeFileSync(policy, 'policy "x"\n');
  try {
    assert.throws(() => build({ policy }), {
      message: `context 'policy': ${policy} is not scrub bytecode ` +
        '(scrubc build FILE.scrub -o FILE.scrubc)',
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('without the Lambda package: a warning and an undeployable rule', () => {
  const b = build({ lambdaCode: '/nonexistent/scrub-lambda.zip' });
  const msg = "the Lambda package (context 'lambdaCode') is missing: " +
    'run `make lambda POLICY=FILE` in the repository root, then ' +
    'synthesize again';
  Annotations.fromStack(b.prod).hasWarning('/ScrubMirrorProd',
    Match.stringLikeRegexp('^the Lambda package .* synthesize again'));
  const rules = b.prodTemplate.toJSON().Rules;
  assert.deepEqual(rules.LambdaPackageBuilt, {
    Assertions: [{
      Assert: { 'Fn::Equals': ['missing', 'built'] },
      AssertDescription: msg,
    }],
  });
  assert.equal(t.toJSON().Rules.LambdaPackageBuilt, undefined);
  Annotations.fromStack(base.prod).hasNoWarning('*', Match.anyValue());
});

test('the zip from make lambda is the function code', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scrub-zip-'));
  const zip = path.join(dir, 'scrub-lambda.zip');
  // An empty zip archive: its end-of-central-directory record only.
  fs.writeFileSync(zip, Buffer.concat([Buffer.from('PK\x05\x06', 'latin1'),
    Buffer.alloc(18)]));
  try {
    const b = build({ lambdaCode: zip });
    const code = only(b.prodTemplate, 'AWS::Lambda::Function')
      .Properties.Code;
    assert.match(code.S3Key, /^[0-9a-f]{64}\.zip$/);
    assert.equal(b.prodTemplate.toJSON().Rules.LambdaPackageBuilt,
      undefined);
    const staged = fs.readdirSync(b.app.outdir)
      .filter((f) => f.startsWith('asset.') && f.endsWith('.zip'));
    assert.equal(staged.length, 1);
    assert.equal(fs.statSync(path.join(b.app.outdir, staged[0])).size, 22);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an existing business bus is imported, not created', () => {
  const it = build({ importBusinessBus: true }).prodTemplate;
  it.resourceCountIs('AWS::Events::EventBus', 1);
  it.hasResourceProperties('AWS::Events::Rule', {
    EventBusName: 'EventBusWithBizTransactions',
    EventPattern: { 'replay-name': [{ exists: true }] },
  });
});

test('alarms: rejected records, Lambda errors, DLQs, replay job', () => {
  const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm'))
    .map((a) => a.Properties);
  const topicId = logicalId(t, 'AWS::SNS::Topic', 'AlarmTopic/Resource');
  for (const a of alarms) {
    assert.deepEqual(a.AlarmActions, [{ Ref: topicId }]);
    assert.equal(a.Threshold, 1);
    assert.equal(a.ComparisonOperator,
      'GreaterThanOrEqualToThreshold');
    assert.equal(a.EvaluationPeriods, 1);
    assert.equal(a.Period, 300);
    assert.equal(a.TreatMissingData, 'notBreaching');
  }
  const brief = alarms.map((a) => [a.Namespace, a.MetricName,
    a.Statistic, JSON.stringify(a.Dimensions ?? [])]);
  assert.deepEqual(brief, [
    ['Scrub', 'Rejected', 'Sum',
      JSON.stringify([{ Name: 'Policy', Value: 'seed-fin-transactions' }])],
    ['AWS/Lambda', 'Errors', 'Sum',
      JSON.stringify([{ Name: 'FunctionName', Value: { Ref: fnId } }])],
    ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'Maximum',
      JSON.stringify([{ Name: 'QueueName',
        Value: { 'Fn::GetAtt': [pipeDlqId, 'QueueName'] } }])],
    ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'Maximum',
      JSON.stringify([{ Name: 'QueueName',
        Value: { 'Fn::GetAtt': [deliveryDlqId, 'QueueName'] } }])],
    ['AWS/States', 'ExecutionsFailed', 'Sum',
      JSON.stringify([{ Name: 'StateMachineArn', Value: { Ref: smId } }])],
    ['AWS/States', 'ExecutionsTimedOut', 'Sum',
      JSON.stringify([{ Name: 'StateMachineArn', Value: { Ref: smId } }])],
  ]);
});

test('rejected alarm follows the Lambda metric settings', () => {
  const b = build({
    metricsNamespace: 'ScrubStage',
    rejectedMetricName: 'RejectedRecords',
    metricDimensions: { Policy: 'orders-to-stage' },
    alarmEmail: 'ops@example.com',
  });
  b.prodTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
    Namespace: 'ScrubStage',
    MetricName: 'RejectedRecords',
    Dimensions: [{ Name: 'Policy', Value: 'orders-to-stage' }],
  });
  b.prodTemplate.hasResourceProperties('AWS::SNS::Subscription', {
    Protocol: 'email', Endpoint: 'ops@example.com',
  });
});

test('queues and stream are encrypted', () => {
  t.hasResourceProperties('AWS::Kinesis::Stream', {
    ShardCount: 1,
    StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
  });
  for (const q of Object.values(t.findResources('AWS::SQS::Queue')))
    assert.equal(q.Properties.SqsManagedSseEnabled, true);
});
