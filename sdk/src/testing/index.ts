export { describeBackendConformance, type ConformanceTarget } from './conformance.js';
