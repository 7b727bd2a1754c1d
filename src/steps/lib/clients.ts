import type { AwsClients } from '../../aws/clients';

/** The per-Region client factories steps need (src/aws builds them). */
export type StepClients = Omit<AwsClients, 'destroy'>;
