/**
 * nestq — open quantum systems (Lindblad/GKSL master equations) and NEST-bridged neurons,
 * a verified Rust engine compiled to threaded SIMD WebAssembly.
 *
 * ```ts
 * import { init, mesolve } from 'nestq';
 * await init();                      // loads the threaded build where threads work
 * const res = mesolve({ dims: [2], hamiltonian: [{ coef: 1, ops: 'X0' }], jumps: [{ rate: 0.1, ops: 'SM0' }],
 *                       initial: { basis: [0] }, times: { start: 0, stop: 10, count: 101 }, observables: { Z: 'Z0' } });
 * res.expect.Z;                      // Float64Array of ⟨σz⟩(t)
 * ```
 * Conventions: QuTiP's (site 0 leftmost, qubit basis 0 = σz +1, `sigmam` = [[0,0],[1,0]]);
 * matrices are interleaved re/im row-major `Float64Array`s; entropies in nats.
 * @module
 */
export { init, runtimeInfo, type InitOptions, type RuntimeInfo } from './raw.js';
export { NestqError, type NestqErrorCode } from './errors.js';
export { Operator, sigmax, sigmay, sigmaz, sigmap, sigmam, destroy, create, num, qeye, jmat, tensor } from './operators.js';
export { DensityMatrix, type DensityMatrixData, expect, ptrace, purity, entropyVN, mutualInformation, concurrence, negativity } from './state.js';
export { Model } from './model.js';
export {
  mesolve,
  mcsolve,
  smesolve,
  ssesolve,
  runFromExperiment,
  steadystate,
  mesolveBatch,
  mesolveSweep,
  resultToJSON,
  type MesolveOptions,
  type MesolveResult,
  type McsolveOptions,
  type McsolveResult,
  type SdeOptions,
  type SdeResult,
  type ScOp,
  type SteadyStateResult,
  type BatchEntry,
} from './solve.js';
export { mesolveAsync, type MesolveAsyncOptions } from './async.js';
export { runNetwork, type NetworkSpec, type NetworkResult, type BridgeRecord, type RunNetworkOptions, type LifSpec, type GroupSpec, type PerMember, type Distribution } from './network.js';
export { grad, gradLoss, type Objective, type ObjectiveTerm, type GradOptions, type GradResult, type LossObjective, type LossInput, type LossGradResult } from './grad.js';
export { train, type TrainConfig, type TrainOptions, type TrainResult, type EpochRecord, type Checkpoint, type LinksConfig, type MnistSplits } from './train.js';
export { loadMnist, MNIST_TRAIN_PER_CLASS, MNIST_TEST_PER_CLASS } from './mnist.js';
export { NESTBridge, nestBridgeModel, type NESTBridgeOptions } from './bridge.js';
export type * from './spec.js';
