export * from './types.ts';
export * from './ipvs-types.ts';
export * from './ipvsadm-codec.ts';
export * from './memory-ipvs.ts';
export * from './memory-host.ts';
export * from './linux.ts';
export * from './exec.ts';
