export { createWatcher, type Watcher, type StateStore } from './watcher';
export { conditionsOf, eventsBetween, nextState, type WatchState, type Condition } from './findings';
