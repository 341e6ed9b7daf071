// The lower-environment stack: the bus named by lowerEnvBusArn, its
// policy admitting the prod account only, and the inspection rule.

import * as assert from 'assert/strict';
import { test } from 'node:test';
import {
  build, flatten, logicalId, only, resourceCounts,
} from './helpers';

const t = build().lowerTemplate;
const busId = logicalId(t, 'AWS::Events::EventBus', 'Bus/Resource');
const logsId = logicalId(t, 'AWS::Logs::LogGroup', 'InspectLogs/Resource');
const ruleId = logicalId(t, 'AWS::Events::Rule', 'InspectRule/Resource');

test('resources of the lower-environment stack', () => {
  assert.deepEqual(resourceCounts(t), {
    'AWS::Events::EventBus': 1,
    'AWS::Events::EventBusPolicy': 1,
    'AWS::Events::Rule': 1,
    'AWS::Logs::LogGroup': 1,
    'AWS::Logs::ResourcePolicy': 1,
  });
  assert.equal(only(t, 'AWS::Events::EventBus').Properties.Name,
    'scrub-mirror');
});

test('bus policy: PutEvents from the prod account only', () => {
  const p = only(t, 'AWS::Events::EventBusPolicy').Properties;
  assert.deepEqual(p.EventBusName, { Ref: busId });
  assert.deepEqual(p.Statement, {
    Sid: 'cdk-AllowProdMirror',
    Effect: 'Allow',
    Principal: { AWS: { 'Fn::Join': ['', ['arn:',
      { Ref: 'AWS::Partition' }, ':iam::111122223333:root']] } },
    Action: 'events:PutEvents',
    Resource: { 'Fn::GetAtt': [busId, 'Arn'] },
  });
});

test('bus policy follows prodAccountId', () => {
  const p = only(build({ prodAccountId: '999988887777' }).lowerTemplate,
    'AWS::Events::EventBusPolicy').Properties;
  assert.equal(flatten(p.Statement.Principal.AWS),
    'arn:${AWS::Partition}:iam::999988887777:root');
});

test('inspection rule: mirrored events to the log group', () => {
  const r = only(t, 'AWS::Events::Rule').Properties;
  assert.deepEqual(r.EventBusName, { Ref: busId });
  assert.deepEqual(r.EventPattern, { account: ['111122223333'] });
  assert.equal(r.Targets.length, 1);
  assert.equal(flatten(r.Targets[0].Arn),
    'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:' +
    'log-group:${' + logsId + '}');
  const lg = only(t, 'AWS::Logs::LogGroup').Properties;
  assert.equal(lg.LogGroupName, '/aws/events/scrub-mirror-inspect');
  assert.equal(lg.RetentionInDays, 7);
});

test('log resource policy: only this rule may write', () => {
  const p = only(t, 'AWS::Logs::ResourcePolicy').Properties;
  const doc = JSON.parse(flatten(p.PolicyDocument));
  assert.deepEqual(doc, {
    Version: '2012-10-17',
    Statement: [{
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: '${' + logsId + '.Arn}',
      Condition: { ArnEquals: { 'aws:SourceArn':
        '${' + ruleId + '.Arn}' } },
    }],
  });
});
