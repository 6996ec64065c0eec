export * from './users';
export * from './videos';
export * from './jobs';
export * from './webhooks';
export * from './settings';
export * from './limits';
export * from './workers';
export * from './storage';
