/** The sshd_config of a throwaway test host (lab host or bench host): key-only root login, no PAM, quiet. */
export interface SshdConfigOpts {
  listen: string;
  hostKey: string;
  pidFile: string;
  authorizedKeys: string;
  comment: string;
  extra?: string[];
}

export function sshdConfigText(o: SshdConfigOpts): string {
  return (
    [
      `# ${o.comment}`,
      `ListenAddress ${o.listen}`,
      `HostKey ${o.hostKey}`,
      `PidFile ${o.pidFile}`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      `AuthorizedKeysFile ${o.authorizedKeys}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'UseDNS no',
      'PrintMotd no',
      'PrintLastLog no',
      'X11Forwarding no',
      'MaxSessions 64',
      'MaxStartups 300:30:600',
      'LogLevel ERROR',
      'Subsystem sftp /usr/lib/openssh/sftp-server',
      ...(o.extra ?? []),
    ].join('\n') + '\n'
  );
}
