/** Part 2 of 2 of the window of seeds `pnpm test` runs through the whole-cluster simulation (seed-window.ts). */
import { describeSeedWindow } from './seed-window.js';

describeSeedWindow(2, 2);
