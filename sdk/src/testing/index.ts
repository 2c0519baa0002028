export { describeBackendConformance, type ConformanceTarget } from './conformance.js';
export { nodeHostDirs } from './host-dirs.js';
