export * from './spec';
export * from './spec-parse';
export * from './problems';
export * from './plan';
export * from './planner';
export * from './router-args';
export * from './format-plan';
