import { LvsrunError } from '../errors.js';

export class FactError extends LvsrunError {
  constructor(message: string) {
    super('E_FACT', message);
  }
}
