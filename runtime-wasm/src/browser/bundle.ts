/**
 * skiff.js, the browser bundle: @skiff/sdk, @skiff/runtime-wasm and its
 * browser side in one ES module (built by esbuild with platform=browser;
 * the container worker is the separate skiff-worker.js).
 */
export * from '@skiff/sdk';
export * from '../index.js';
export * from './index.js';
