#!/usr/bin/env node
// The CDK app: both stacks of the scrub mirror, configured by context
// (cdk.json, or -c KEY=VALUE). The stacks are environment-agnostic:
// the account and Region come from the profile used to deploy each one,
// so synth needs no AWS credentials and makes no lookups.

import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { loadConfig } from '../lib/config';
import { LowerEnvStack } from '../lib/lower-env-stack';
import { ProdMirrorStack } from '../lib/prod-mirror-stack';

const app = new App();
const config = loadConfig(app.node, path.join(__dirname, '..', '..'));
new ProdMirrorStack(app, 'ScrubMirrorProd', {
  config,
  description: 'scrub mirror, prod account: archive, replay, Kinesis, ' +
    'Pipe with the scrub Lambda',
});
new LowerEnvStack(app, 'ScrubMirrorLower', {
  config,
  description: 'scrub mirror, lower-environment account: receiving bus',
});
