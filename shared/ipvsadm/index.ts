export * from './codec.ts';
export * from './import.ts';
export * from './render.ts';
