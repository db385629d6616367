import { describe, expect, it } from 'vitest';
import { parseVifSettings } from '../../../src/config/vif-settings.ts';

describe('parseVifSettings (the vif- keys of /etc/xen/xenplan.conf)', () => {
  it('a missing file means the defaults: Xen meaning of ip', () => {
    expect(parseVifSettings('/etc/xen/xenplan.conf', undefined)).toEqual({ antispoof: 'ip' });
  });

  it('reads vif-antispoof among comments, blank lines and network-script keys', () => {
    const text = '# host\n\nbridge=xenbr0\nbond-mode=whatever\nvif-antispoof = locked  # every guest\n';
    expect(parseVifSettings('x.conf', text)).toEqual({ antispoof: 'locked' });
    expect(parseVifSettings('x.conf', "vif-antispoof='off'\n")).toEqual({ antispoof: 'off' });
  });

  it('ignores malformed lines that are not vif- lines (network-script judges those)', () => {
    expect(parseVifSettings('x.conf', 'not a setting\nvif-antispoof=ip\n')).toEqual({ antispoof: 'ip' });
  });

  it('a bad value names the file, line, key, value and what is expected', () => {
    expect(() => parseVifSettings('x.conf', 'bridge=xenbr0\nvif-antispoof=yes\n')).toThrow(
      'x.conf:2: vif-antispoof="yes": expected ip, locked, off',
    );
  });

  it('an unknown vif- key is an error naming it; a malformed vif- line too', () => {
    expect(() => parseVifSettings('x.conf', 'vif-antispof=ip\n')).toThrow(
      'x.conf:1: unknown setting "vif-antispof"; vif-script knows vif-antispoof',
    );
    expect(() => parseVifSettings('x.conf', 'vif-antispoof\n')).toThrow(
      /x\.conf:1: "vif-antispoof" is not a setting/,
    );
  });
});
