// The replay-name convention of the prod bus.
//
// EventBridge adds a top-level "replay-name" field to every event it
// replays from an archive (the name of the replay). Replays of the
// business bus exist only to feed the mirror, so on that bus:
//
//   - the mirror's replay rule matches  "replay-name": [{"exists": true}];
//   - every other rule (a live consumer) matches
//                                       "replay-name": [{"exists": false}],
//     so a replay can never reach a live consumer twice;
//   - the replay job also names only the replay rule in the replay's
//     Destination.FilterArns, which keeps replays off live rules that
//     predate the convention.
//
// The two helpers below add the clause to a pattern, so the stacks'
// own rules cannot forget it.

import * as events from 'aws-cdk-lib/aws-events';

export const REPLAY_NAME_FIELD = 'replay-name';

type Pattern = events.EventPattern & Record<string, unknown>;

function withReplayClause(pattern: events.EventPattern,
  exists: boolean): events.EventPattern {
  if (REPLAY_NAME_FIELD in pattern)
    throw new Error(`the pattern already constrains '${REPLAY_NAME_FIELD}'`);
  const p: Pattern = { ...pattern };
  p[REPLAY_NAME_FIELD] = [{ exists }];
  return p;
}

/** A pattern for a live consumer: never matches a replayed event. */
export function livePattern(pattern: events.EventPattern): events.EventPattern {
  return withReplayClause(pattern, false);
}

/** A pattern that matches only replayed events. */
export function replayPattern(
  pattern: events.EventPattern = {}): events.EventPattern {
  return withReplayClause(pattern, true);
}
