export * from './diagnostics.ts';
export * from './lexer.ts';
export * from './parser.ts';
export * from './import.ts';
export * from './render.ts';
export type { MergeOptions } from './merge.ts';
