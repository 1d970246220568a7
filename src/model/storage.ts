// Facts about claims and volumes that the controllers and the printers share.

import type { PersistentVolume, PersistentVolumeClaim } from './types.js';

/** GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order, without repeats. */
export function accessModesText(modes: readonly string[] | undefined): string {
  const set = new Set(modes ?? []);
  return (
    [
      ['ReadWriteOnce', 'RWO'],
      ['ReadOnlyMany', 'ROX'],
      ['ReadWriteMany', 'RWX'],
      ['ReadWriteOncePod', 'RWOP'],
    ] as const
  )
    .filter(([mode]) => set.has(mode))
    .map(([, short]) => short)
    .join(',');
}

/** GetPersistentVolumeClaimClass / GetPersistentVolumeClass: the beta annotation wins over the field. */
export function storageClassOf(object: PersistentVolumeClaim | PersistentVolume): string {
  const annotation = object.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'];
  if (annotation !== undefined) return annotation;
  return typeof object.spec.storageClassName === 'string' ? object.spec.storageClassName : '';
}
