/**
 * diagnostics_channel events of the log, stable names for metrics and the dashboard:
 * - `gregor:log:append` `{ dir, baseOffset, lastOffset, sizeBytes, recordCount }` after each append;
 * - `gregor:log:roll` `{ dir, baseOffset }` when a new active segment starts;
 * - `gregor:log:recover` `{ dir, segmentsRecovered, truncatedBytes, logEndOffset }` after an open that re-checked segments.
 * Publishers check `hasSubscribers` first so an unobserved append costs nothing.
 */
import diagnostics from 'node:diagnostics_channel';

export const appendChannel = diagnostics.channel('gregor:log:append');
export const rollChannel = diagnostics.channel('gregor:log:roll');
export const recoverChannel = diagnostics.channel('gregor:log:recover');
