// @skiff/runtime-wasm: the WASI backend (isomorphic: Node and browsers). Node-only parts are in ./node.
export { WasmBackend, type WasmBackendOptions } from './backend.js';
export { WasmRuntime, type WasmRuntimeOptions } from './runtime.js';
export { WasmSandbox, SandboxSession, type SandboxRunOptions, type SandboxResult } from './sandbox.js';
export { ModuleCache, type ModuleKey } from './module-cache.js';
export type { ContainerFs, ContainerFsOptions, ContainerFsProvider, LayerIndex } from './container-fs.js';
export { WasiProcess, prepareProgram, type Program, type ProgramRequest, type ProcessIO, type ProcessOptions, type ProcessResult, type Deterministic } from './process.js';
export { WasiHost, ProcExit, GuestKilled, SYSCALLS, type Preopen, type WasiHostOptions, type SymlinkCapable, type RenameCapable } from './wasi/host.js';
export { runCommand, runInstance, checkCommand, RunRefused, TRAP_EXIT_CODE, KILL_EXIT_CODE, type RunOutcome } from './wasi/run.js';
export { OutputFd, InputFd } from './wasi/stdio.js';
export { RealClock, DeterministicClock, type GuestClock } from './wasi/clock.js';
export { SeededRandom, cryptoRandom, type RandomSource } from './wasi/random.js';
export { Errno, errnoName } from './wasi/defs.js';
export { createWasmBackend, createWasmRuntime, type CreateWasmBackendOptions } from './factory.js';
export { LayeredFsProvider } from './fs/provider.js';
export { SampleImageSource, buildSample, TOOLBOX_APPLETS, SAMPLE_NAMES, type ProgramReader, type SampleName } from './samples.js';
