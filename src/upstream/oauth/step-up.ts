/** How many step-up logins in a row the proxy asks for before it answers 403 (as the SDK's maxStepUpRetries, per login). */
export const MAX_STEP_UP_LOGINS = 2;

/** The upstream still wants more scope after MAX_STEP_UP_LOGINS logins that asked for it: no more logins help. */
export class StepUpLimitError extends Error {
  override readonly name = "StepUpLimitError";
  constructor(logins: number) {
    super(
      `the upstream still wants more scope after ${logins} step-up login(s) (limit ${MAX_STEP_UP_LOGINS}); ask its administrator for the scope`,
    );
  }
}
