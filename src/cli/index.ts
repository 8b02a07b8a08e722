export { main, buildProgram, reportError } from './main';
export type { CommandRegistration } from './commands';
