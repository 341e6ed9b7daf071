// Shared by the tests: an app built the way bin/app.ts builds it, with the
// context of cdk.json plus overrides, and a stand-in for the Lambda
// package so that no test needs `make lambda`.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { loadConfig } from '../lib/config';
import { LowerEnvStack } from '../lib/lower-env-stack';
import { ProdMirrorStack } from '../lib/prod-mirror-stack';

/** deploy/, where cdk.json is and relative context paths start. */
export const DEPLOY_DIR = path.join(__dirname, '..', '..');

/** The context cdk.json ships: the defaults every test starts from. */
export function shippedContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(
    path.join(DEPLOY_DIR, 'cdk.json'), 'utf8'));
  return cdkJson.context;
}

/** A directory with an executable `bootstrap`, made once per process. */
let standIn: string | undefined;
export function standInLambdaDir(): string {
  if (standIn === undefined) {
    standIn = fs.mkdtempSync(path.join(os.tmpdir(), 'scrub-lambda-'));
    fs.writeFileSync(path.join(standIn, 'bootstrap'),
      '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    process.on('exit', () =>
      fs.rmSync(standIn!, { recursive: true, force: true }));
  }
  return standIn;
}

export interface Built {
  readonly app: App;
  readonly prod: ProdMirrorStack;
  readonly lower: LowerEnvStack;
  readonly prodTemplate: Template;
  readonly lowerTemplate: Template;
}

/** Both stacks from cdk.json's context, overridden by `context`. */
export function build(context: Record<string, unknown> = {}): Built {
  const app = new App({
    context: {
      ...shippedContext(),
      lambdaCode: standInLambdaDir(),
      // Resources carry their construct path: logicalId() uses it.
      'aws:cdk:enable-path-metadata': true,
      ...context,
    },
  });
  const config = loadConfig(app.node, DEPLOY_DIR);
  const prod = new ProdMirrorStack(app, 'ScrubMirrorProd', { config });
  const lower = new LowerEnvStack(app, 'ScrubMirrorLower', { config });
  return {
    app, prod, lower,
    prodTemplate: Template.fromStack(prod),
    lowerTemplate: Template.fromStack(lower),
  };
}

/** How many resources of each type a template has. */
export function resourceCounts(t: Template): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of Object.values(t.toJSON().Resources as object)) {
    if (r.Type !== 'AWS::CDK::Metadata')
      counts[r.Type] = (counts[r.Type] ?? 0) + 1;
  }
  return counts;
}

/** The one resource of a type; fails unless there is exactly one. */
export function only(t: Template, type: string): Record<string, any> {
  const all = t.findResources(type);
  const ids = Object.keys(all);
  if (ids.length !== 1)
    throw new Error(`${ids.length} resources of type ${type}`);
  return all[ids[0]];
}

/** The logical id of the one resource of a type whose path ends so. */
export function logicalId(t: Template, type: string,
  pathSuffix: string): string {
  const all = t.findResources(type);
  const ids = Object.keys(all).filter((id) =>
    String(all[id].Metadata?.['aws:cdk:path'] ?? '')
      .endsWith(pathSuffix));
  if (ids.length !== 1)
    throw new Error(`${ids.length} ${type} at */${pathSuffix}`);
  return ids[0];
}

/**
 * A CloudFormation value with its intrinsics written out as text:
 * {"Ref": X} as ${X}, {"Fn::GetAtt": [X, A]} as ${X.A}, Fn::Join joined.
 * Turns the state machine's definition string back into JSON.
 */
export function flatten(v: unknown): string {
  if (typeof v === 'string')
    return v;
  const o = v as Record<string, any>;
  if ('Ref' in o)
    return '${' + o.Ref + '}';
  if ('Fn::GetAtt' in o)
    return '${' + o['Fn::GetAtt'].join('.') + '}';
  if ('Fn::Join' in o)
    return o['Fn::Join'][1].map(flatten).join(o['Fn::Join'][0]);
  throw new Error(`cannot flatten ${JSON.stringify(v)}`);
}
