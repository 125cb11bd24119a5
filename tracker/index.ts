/**
 * The closed-loop tracker's library API (the CLI `fiscus track` and the HTTP
 * `POST /v1/flags/{id}/actions` are thin layers over it). See tracker/README.md.
 */
export { trackActionSchema, documentRefSchema, milestoneSchema, type TrackAction, type DocumentRef, type Milestone } from './actions.ts';
export { performAction, assignAll, parseAction, actorSchema, type Actor, type ActionResult, type PerformOptions, type BulkAssignInput } from './perform.ts';
export { flagHistory, listTracked, type ListFilters, type ReadOptions } from './query.ts';
export { trackStats, type TrackStats, type Figures, type StatsScope } from './stats.ts';
export { scanDeadlines, type ScanResult } from './scan.ts';
export { verifyLog, type LogCheck } from './verify.ts';
export { resolveConfig, DEFAULT_CONFIG, type TrackerConfig } from './config.ts';
export type { TrackedFlag, TrackerView } from './flags.ts';
export {
  STATUSES,
  STATUS_LABELS,
  ACTIONS,
  ACTION_DEFS,
  ROLES,
  OPEN_STATUSES,
  allowedActions,
  actionsForRole,
  type Status,
  type Role,
  type ActionName,
} from './states.ts';
