/** keras.config.epsilon(): the fuzz factor that keeps divisors off 0 and logs' arguments off 0 and 1. */
export const EPSILON = 1e-7;
