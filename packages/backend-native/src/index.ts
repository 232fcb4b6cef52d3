export {
  NATIVE_BACKEND,
  nativeInfo,
  registerNativeBackend,
  setNativeSimd,
  setNativeThreads,
  type NativeInfo,
  type RegisterNativeOptions,
  type RegisterResult,
} from './backend.js';
