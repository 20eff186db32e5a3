import { resetNames } from './names.js';

/** Resets automatic layer names (dense, dense_1, …), as keras.backend.clear_session does. */
export function clearSession(): void {
  resetNames();
}
