/**
 * Warnings the broker raises about its own state (a damaged state file it recovered from, ...), on
 * the diagnostics channel `gregor:broker:warning` as `{ message }`. With no subscriber (a program
 * that does not log them) they go to `process.emitWarning`, which Node prints on stderr: a warning
 * is never dropped silently. Safe to call from anywhere.
 */
import diagnosticsChannel from 'node:diagnostics_channel';

export const warningChannel = diagnosticsChannel.channel('gregor:broker:warning');

export function warn(message: string): void {
  if (warningChannel.hasSubscribers) warningChannel.publish({ message });
  else process.emitWarning(message, 'GregorWarning');
}
