/**
 * The ack benchmark's people: one per concurrent sender, so that no one goes over the per-person
 * budget (IDC_COMMANDS_PER_MINUTE) and every command takes its whole path (the shared replay check,
 * the role check, the job, the answer), not the ack's refusal.
 */
export const SENDERS: Record<string, { name: string }> = Object.fromEntries(
  Array.from({ length: 50 }, (_, i) => [`USEND${String(i).padStart(2, '0')}`, { name: `sender${i}` }]),
);
