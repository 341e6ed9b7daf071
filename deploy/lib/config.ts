// The deployment's settings: CDK context values (cdk.json, or -c on the
// command line), checked once here so that a wrong value stops synth with
// a message naming the key instead of failing later inside CloudFormation.
//
// Context given with -c arrives as a string; the same key in cdk.json may
// be a number, a boolean or an object. Every reader accepts both.

import * as fs from 'fs';
import * as path from 'path';

export interface MirrorConfig {
  /** Account allowed to put events on the lower-environment bus. */
  readonly prodAccountId: string;
  /** ARN of the lower-environment bus; its name names that stack's bus. */
  readonly lowerEnvBusArn: string;
  readonly lowerEnvBusName: string;
  /** The business bus in prod: created by the stack, or imported. */
  readonly businessBusName: string;
  readonly importBusinessBus: boolean;
  readonly archiveRetentionDays: number;
  /** Lambda package from `make lambda`: a .zip or a directory. */
  readonly lambdaCode: string;
  /** Compiled policy (.scrubc) shipped beside the zip, or '' for the
   *  policy the zip was built with. */
  readonly policy: string;
  readonly lambdaArchitecture: 'x86_64' | 'arm64';
  /** SCRUB_ON_REJECT for the Lambda (fail | drop); '' leaves its
   *  default, fail. */
  readonly onReject: string;
  /** Kinesis records per enrichment call (1..10, the bus target limit). */
  readonly batchSize: number;
  readonly streamShards: number;
  /** EventBridge Scheduler expression of the replay job. */
  readonly replaySchedule: string;
  readonly replayWindowMinutes: number;
  readonly replayDelayMinutes: number;
  /** Where the Lambda's EMF metrics land (must match the Lambda): it
   *  writes them under one dimension, Policy = the policy's name. */
  readonly metricsNamespace: string;
  readonly metricDimensions: Record<string, string>;
  readonly rejectedMetricName: string;
  /** Address subscribed to the alarm topic; '' for none. */
  readonly alarmEmail: string;
}

/** The subset of Node's construct tree this module needs. */
export interface ContextSource {
  tryGetContext(key: string): unknown;
}

/** Thrown for any bad context value; the message names the key. */
export class ConfigError extends Error {}

/** Event-bus ARN: arn:PARTITION:events:REGION:ACCOUNT:event-bus/NAME. */
const BUS_ARN = new RegExp('^arn:aws[a-z-]*:events:[a-z0-9-]+:(\\d{12}):' +
  'event-bus/([.\\-_A-Za-z0-9]{1,256})$');

function raw(ctx: ContextSource, key: string): unknown {
  const v = ctx.tryGetContext(key);
  if (v === undefined || v === null)
    throw new ConfigError(`context '${key}' is not set (see cdk.json)`);
  return v;
}

function str(ctx: ContextSource, key: string): string {
  const v = raw(ctx, key);
  if (typeof v !== 'string')
    throw new ConfigError(`context '${key}' must be a string`);
  return v;
}

function int(ctx: ContextSource, key: string, min: number,
  max: number): number {
  const v = raw(ctx, key);
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(
      `context '${key}' must be an integer from ${min} to ${max}`);
  return n;
}

function bool(ctx: ContextSource, key: string): boolean {
  const v = raw(ctx, key);
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new ConfigError(`context '${key}' must be true or false`);
}

/** A JSON object of string values, given as an object or as its JSON. */
function strMap(ctx: ContextSource, key: string): Record<string, string> {
  let v = raw(ctx, key);
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      throw new ConfigError(`context '${key}' is not valid JSON`);
    }
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) ||
      !Object.values(v).every((x) => typeof x === 'string'))
    throw new ConfigError(
      `context '${key}' must be an object of string values`);
  return v as Record<string, string>;
}

/**
 * Reads and checks every setting. `baseDir` resolves the relative paths
 * (lambdaCode, policy): the deploy/ directory, where cdk runs.
 */
export function loadConfig(ctx: ContextSource, baseDir: string): MirrorConfig {
  const prodAccountId = str(ctx, 'prodAccountId');
  if (!/^\d{12}$/.test(prodAccountId))
    throw new ConfigError(
      "context 'prodAccountId' must be a 12-digit account id");

  const lowerEnvBusArn = str(ctx, 'lowerEnvBusArn');
  const m = BUS_ARN.exec(lowerEnvBusArn);
  if (!m)
    throw new ConfigError("context 'lowerEnvBusArn' must be an event " +
      'bus ARN (arn:aws:events:REGION:ACCOUNT:event-bus/NAME)');
  // A bus in the same account would not be a lower environment, and
  // its policy below would then admit the account to itself.
  if (m[1] === prodAccountId)
    throw new ConfigError("context 'lowerEnvBusArn' is in the prod " +
      'account; the mirror needs a separate account');
  if (m[2] === 'default')
    throw new ConfigError("context 'lowerEnvBusArn' names the " +
      'default bus; the lower stack creates its own bus');

  const arch = str(ctx, 'lambdaArchitecture');
  if (arch !== 'x86_64' && arch !== 'arm64')
    throw new ConfigError(
      "context 'lambdaArchitecture' must be x86_64 or arm64");

  const policy = str(ctx, 'policy');
  if (policy !== '' && !policy.endsWith('.scrubc'))
    throw new ConfigError("context 'policy' must be a compiled policy " +
      '(.scrubc): scrubc build FILE.scrub -o FILE.scrubc');

  const replaySchedule = str(ctx, 'replaySchedule');
  if (!/^(cron|rate)\(.+\)$/.test(replaySchedule))
    throw new ConfigError("context 'replaySchedule' must be a " +
      'cron(...) or rate(...) expression');

  const onReject = str(ctx, 'onReject');
  if (onReject !== '' && onReject !== 'fail' && onReject !== 'drop')
    throw new ConfigError("context 'onReject' must be fail, drop or ''");
  const alarmEmail = str(ctx, 'alarmEmail');
  if (alarmEmail !== '' && !/^[^@\s]+@[^@\s]+$/.test(alarmEmail))
    throw new ConfigError("context 'alarmEmail' is not an address");

  return {
    prodAccountId,
    lowerEnvBusArn,
    lowerEnvBusName: m[2],
    businessBusName: str(ctx, 'businessBusName'),
    importBusinessBus: bool(ctx, 'importBusinessBus'),
    archiveRetentionDays: int(ctx, 'archiveRetentionDays', 1, 3650),
    lambdaCode: path.resolve(baseDir, str(ctx, 'lambdaCode')),
    policy: policy === '' ? '' : path.resolve(baseDir, policy),
    lambdaArchitecture: arch,
    onReject,
    batchSize: int(ctx, 'batchSize', 1, 10),
    streamShards: int(ctx, 'streamShards', 1, 64),
    replaySchedule,
    replayWindowMinutes: int(ctx, 'replayWindowMinutes', 1, 24 * 60),
    replayDelayMinutes: int(ctx, 'replayDelayMinutes', 0, 24 * 60),
    metricsNamespace: str(ctx, 'metricsNamespace'),
    metricDimensions: strMap(ctx, 'metricDimensions'),
    rejectedMetricName: str(ctx, 'rejectedMetricName'),
    alarmEmail,
  };
}

/** Whether the Lambda package from `make lambda` is there. */
export function lambdaCodeExists(cfg: MirrorConfig): boolean {
  return fs.existsSync(cfg.lambdaCode);
}
