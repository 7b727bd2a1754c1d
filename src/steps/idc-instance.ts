import { z } from 'zod';
import { defineStep } from '../engine';
import { AwsRegion } from './lib/schemas';
import { type Sso, findInstance } from './lib/identity-center';

/** idc.instance: the instance's identifiers, primary Region, Regions and key (read-only). */
export const createInstanceInfo = (sso: Sso) =>
  defineStep({
    kind: 'idc.instance',
    description: 'Find the instance and read its identifiers, Regions and encryption key',
    mutates: false,
    input: z.object({ homeRegion: AwsRegion, instanceArn: z.string().optional() }),
    async run(input) {
      const d = await findInstance(sso, input.homeRegion, input.instanceArn);
      const regions = (d.Regions ?? []).map((r) => ({
        name: r.RegionName as string,
        status: r.Status as string,
        primary: Boolean(r.IsPrimaryRegion),
      }));
      return {
        output: {
          instanceArn: d.InstanceArn,
          identityStoreId: d.IdentityStoreId,
          primaryRegion: d.PrimaryRegion,
          accountId: d.OwnerAccountId,
          keyArn: d.EncryptionConfigurationDetails?.KmsKeyArn ?? null,
          regions,
        },
        summary: `${d.InstanceArn} in ${d.PrimaryRegion}: ${regions.map((r) => `${r.name} ${r.status}`).join(', ')}`,
      };
    },
  });
