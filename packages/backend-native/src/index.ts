export {
  NATIVE_BACKEND,
  nativeInfo,
  registerNativeBackend,
  setNativeBlas,
  setNativeSimd,
  setNativeThreads,
  type NativeInfo,
  type RegisterNativeOptions,
  type RegisterResult,
} from './backend.js';
export { traceNativeGemm, type NativeGemmCall } from './gemm-trace.js';
