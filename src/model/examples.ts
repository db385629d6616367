/**
 * The example configuration shipped in the repository under examples/ (a Xen 3.x admin's
 * bonded bridge: ifcfg files, what they did by hand, the recommended rewrite), as data, so an
 * installed bundle can write it out (`xenplan examples DIR`) and the lab can play it.
 * test/unit/model/examples.test.ts keeps this copy equal to examples/.
 */
export const EXAMPLE_FILES: Readonly<Record<string, string>> = {
  'README.md':
    "# Example configuration: a Xen 3.x admin's bonded bridge\n\n`ifcfg/` holds the Red Hat `ifcfg-*` files of a CentOS 5 dom0 from a post to the xen-users\nmailing list asking whether the setup was sane: eth0 and eth1 cabled to two switches,\nbonded in mode 0 (balance-rr) into bond0, bond0 in the bridge xenbr0, dom0's address on the\nnetloop device veth0 with vif0.0 in the bridge. The post lost one line of each file to\nformatting; it is rebuilt as `ONBOOT=yes`. The admin's private address 192.168.1.11 is\nrewritten to the documentation address 192.0.2.11 (gateway 192.0.2.1).\n\n`by-hand.conf` declares, for doctor, what the admin did outside these files: `arp off` on\nthe ports, and bridge netfilter switched off. `recommended.conf` is the rewrite xenplan's\nlab applies.\n\n    xenplan examples DIR                     # writes these files into DIR (an installed xenplan)\n    xenplan doctor ifcfg=DIR/ifcfg config=DIR/by-hand.conf --config-only\n    network-script start config=DIR/recommended.conf --dry-run\n",
  'by-hand.conf':
    '# What the admin did by hand besides the ifcfg files, declared for xenplan doctor\n# (these keys are not applied): "arp off" on the bond, its slaves and the vifs, and bridge\n# netfilter switched off in /etc/sysctl.conf.\nnoarp=eth0,eth1,bond0,vif0.0,vif1.0\nsysctl.net.bridge.bridge-nf-call-iptables=0\nsysctl.net.bridge.bridge-nf-call-ip6tables=0\nsysctl.net.bridge.bridge-nf-call-arptables=0\n',
  'ifcfg/ifcfg-bond0':
    "DEVICE=bond0\nBOOTPROTO=none\nONBOOT=yes\nTYPE=Ethernet\nBONDING_OPTS='mode=0 miimon=100'\nBRIDGE=xenbr0\n",
  'ifcfg/ifcfg-eth0':
    'DEVICE=eth0\nUSERCTL=no\nBOOTPROTO=none\nMACADDR=00:1E:C9:BB:3B:DE\nONBOOT=yes\nMASTER=bond0\nSLAVE=yes\n',
  'ifcfg/ifcfg-eth1':
    'DEVICE=eth1\nUSERCTL=no\nBOOTPROTO=none\nMACADDR=00:1E:C9:BB:3B:DF\nONBOOT=yes\nMASTER=bond0\nSLAVE=yes\n',
  'ifcfg/ifcfg-veth0':
    'DEVICE=veth0\nBOOTPROTO=none\nONBOOT=yes\nIPADDR=192.0.2.11\nNETMASK=255.255.255.0\nGATEWAY=192.0.2.1\n# Our Dom0 will be needing a HW address\nMACADDR=00:16:3E:00:01:00\n',
  'ifcfg/ifcfg-vif0.0': 'DEVICE=vif0.0\nBOOTPROTO=none\nONBOOT=yes\nBRIDGE=xenbr0\n',
  'ifcfg/ifcfg-xenbr0':
    'DEVICE=xenbr0\nBOOTPROTO=none\nONBOOT=yes\nTYPE=Bridge\nSTP=OFF\nFD=9\nHELLO=2\nMAXAGE=12\n',
  'recommended.conf':
    "# The recommended rewrite of the admin's setup, for network-script start (config=FILE):\n# active-backup is the only bond mode safe across two independent switches; eth0 is\n# preferred; STP off with no forward delay; dom0's address on the bridge.\nbridge=xenbr0\nbond=bond0\nslaves=eth0,eth1\nbond-mode=active-backup\nmiimon=100\nbond.primary=eth0\nstp=off\nforward-delay=0\n",
};
