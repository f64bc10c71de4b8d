export { isAlive } from '../helpers/proc.js';
