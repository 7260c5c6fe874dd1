export { startHealthChecker, type HealthChecker, type HealthCheckerOptions } from './health-checker.ts';
export { step, nextWakeAt, initialState, type SchedulerAction, type SchedulerEvent, type SchedulerState } from './scheduler.ts';
export { runCheck, CHECKERS } from './run-check.ts';
export { CheckError, targetKey, type CheckErrorCode, type Checker, type ProbeOutcome, type TargetHealth, type Transition } from './types.ts';
