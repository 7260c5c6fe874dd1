# zsh -f capture.zsh DIR OUTFILE 'words typed ': presses TAB once after the words in an
# interactive zsh on a pty with DIR's completion functions, and writes every match offered to
# OUTFILE, then a last line "CAPTURE-DONE" once the completion widget has returned.
zmodload zsh/zpty || exit 1
dir=$1 outfile=$2 line=$3
: > $outfile
zpty z zsh -f -i
zpty -w z "PS1=''; fpath=(${(q)dir} \$fpath); autoload -Uz compinit; compinit -u -d ${(q)dir}/zcompdump"
# Every compadd that adds matches also writes them (what it would add, filtered by the prefix typed).
zpty -w z 'compadd() { if (( ${@[(I)-[OAD]]} )); then builtin compadd "$@"; return; fi; local -a m; builtin compadd -O m "$@"; print -rl -- $m >> '${(q)outfile}'; builtin compadd "$@" }'
zpty -w z 'capture-complete() { zle complete-word; print -r -- CAPTURE-DONE >> '${(q)outfile}' }; zle -N capture-complete; bindkey "^I" capture-complete'
zpty -n -w z "$line"$'\t'
while (( SECONDS < 20 )); do
  zpty -r -t z chunk || sleep 0.05
  [[ -n ${(M)${(f)"$(<$outfile)"}:#CAPTURE-DONE} ]] && break
done
zpty -d z
[[ -n ${(M)${(f)"$(<$outfile)"}:#CAPTURE-DONE} ]]
