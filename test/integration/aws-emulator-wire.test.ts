import {
  DescribeRegionCommand,
  SSOAdminClient,
  ConflictException,
  ValidationException,
} from '@aws-sdk/client-sso-admin';
import { KMSClient, CreateKeyCommand, ReplicateKeyCommand, AlreadyExistsException } from '@aws-sdk/client-kms';
import { startAwsEmulator, type AwsEmulator } from '../../dev/emulators/aws/server';

let emu: AwsEmulator;
const creds = { accessKeyId: 'AKID', secretAccessKey: 'secret' };
beforeAll(async () => (emu = await startAwsEmulator({ timeScale: 0.001 })));
afterAll(() => emu.close());

describe('AWS emulator wire protocol', () => {
  it('answers unsigned requests the way AWS does and names the error in __type', async () => {
    const res = await fetch(emu.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'SWBExternalService.ListInstances', 'content-type': 'application/x-amz-json-1.1' },
      body: '{}',
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({
      __type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    });
  });

  it('reads the Region from the SigV4 credential scope and refuses Region management outside the primary', async () => {
    const arn = emu.world.instance.arn;
    const eu = new SSOAdminClient({ region: 'eu-central-1', endpoint: emu.url, credentials: creds, maxAttempts: 1 });
    await expect(
      eu.send(new DescribeRegionCommand({ InstanceArn: arn, RegionName: 'us-east-1' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    const us = new SSOAdminClient({ region: 'us-east-1', endpoint: emu.url, credentials: creds, maxAttempts: 1 });
    const primary = await us.send(new DescribeRegionCommand({ InstanceArn: arn, RegionName: 'us-east-1' }));
    expect(primary).toMatchObject({ RegionName: 'us-east-1', Status: 'ACTIVE', IsPrimaryRegion: true });
    expect(primary.AddedDate).toBeInstanceOf(Date);
    const { AddRegionCommand } = await import('@aws-sdk/client-sso-admin');
    // Without a customer managed multi-Region key with a replica, AddRegion is refused (typed by the SDK).
    await expect(us.send(new AddRegionCommand({ InstanceArn: arn, RegionName: 'eu-west-1' }))).rejects.toBeInstanceOf(
      ValidationException,
    );
    eu.destroy();
    us.destroy();
    expect(ConflictException).toBeDefined();
  });

  it('models KMS multi-Region replicas and their errors', async () => {
    const kms = new KMSClient({ region: 'us-east-1', endpoint: emu.url, credentials: creds, maxAttempts: 1 });
    const key = await kms.send(new CreateKeyCommand({ MultiRegion: true, KeySpec: 'SYMMETRIC_DEFAULT' }));
    expect(key.KeyMetadata?.KeyId).toMatch(/^mrk-[0-9a-f]{32}$/);
    const rep = await kms.send(new ReplicateKeyCommand({ KeyId: key.KeyMetadata?.KeyId, ReplicaRegion: 'eu-west-1' }));
    expect(rep.ReplicaKeyMetadata).toMatchObject({
      KeyState: 'Creating',
      MultiRegionConfiguration: { MultiRegionKeyType: 'REPLICA' },
    });
    await expect(
      kms.send(new ReplicateKeyCommand({ KeyId: key.KeyMetadata?.KeyId, ReplicaRegion: 'eu-west-1' })),
    ).rejects.toBeInstanceOf(AlreadyExistsException);
    kms.destroy();
  });
});
