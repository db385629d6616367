# bash completion for xenplan (installed by the xenplan package)
_xenplan() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "lab vif bridge-port network plan status confirm doctor install uninstall manpage help version" -- "$cur"))
    return
  fi
  case ${COMP_WORDS[1]} in
    network) COMPREPLY=($(compgen -W "start stop status --dry-run --json" -- "$cur")) ;;
    help) COMPREPLY=($(compgen -W "network vif doctor install uninstall bridge-port lab xenplan.conf" -- "$cur")) ;;
    manpage) COMPREPLY=($(compgen -W "xenplan network-xenplan vif-xenplan xenplan.conf" -- "$cur")) ;;
    *) COMPREPLY=($(compgen -W "--dry-run --json --help" -- "$cur")) ;;
  esac
}
complete -F _xenplan xenplan
