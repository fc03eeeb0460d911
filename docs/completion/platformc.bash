# bash completion for platformc — source it, or install it as
# $(PREFIX)/share/bash-completion/completions/platformc (`make install` does).
_platformc()
{
	local cur prev verb i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	verb=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-o | --output | --format | --diagnostics | --dump | --max-diagnostics) ((i++)) ;;
		-h | --help) ;;
		-*) ;;
		*) verb=${COMP_WORDS[i]}; break ;;
		esac
	done
	case $prev in
	-o | --output)
		COMPREPLY=($(compgen -d -- "$cur")); return ;;
	--diagnostics)
		COMPREPLY=($(compgen -W "human json github" -- "$cur")); return ;;
	--dump)
		COMPREPLY=($(compgen -W "model files" -- "$cur")); return ;;
	--format)
		case $verb in
		graph) COMPREPLY=($(compgen -W "dot mermaid" -- "$cur")) ;;
		cost) COMPREPLY=($(compgen -W "text json" -- "$cur")) ;;
		*) COMPREPLY=($(compgen -W "text markdown" -- "$cur")) ;;
		esac
		return ;;
	esac
	# the verbs, their options and formats: the table of compiler/main.c
	# (`platformc VERB --help`); tests/groups/cli.sh checks they agree
	if [ -z "$verb" ]; then
		COMPREPLY=($(compgen -W "check render cost diff graph schema explain lsp --help --version" -- "$cur"))
		return
	fi
	case $cur in
	-*)
		case $verb in
		check) COMPREPLY=($(compgen -W "--diagnostics --max-diagnostics --dump --help" -- "$cur")) ;;
		cost) COMPREPLY=($(compgen -W "--format --fail-over-budget --diagnostics --max-diagnostics --help" -- "$cur")) ;;
		render) COMPREPLY=($(compgen -W "-o --output --check --diagnostics --max-diagnostics --dump --help" -- "$cur")) ;;
		diff) COMPREPLY=($(compgen -W "-o --output --format --diagnostics --max-diagnostics --help" -- "$cur")) ;;
		graph) COMPREPLY=($(compgen -W "--format --diagnostics --max-diagnostics --help" -- "$cur")) ;;
		explain) COMPREPLY=($(compgen -W "--markdown --help" -- "$cur")) ;;
		schema) COMPREPLY=($(compgen -W "--included --help" -- "$cur")) ;;
		*) COMPREPLY=($(compgen -W "--help" -- "$cur")) ;;
		esac
		return ;;
	esac
	case $verb in
	explain)
		# the built-in resource kinds (diagnostic codes are too many to list)
		COMPREPLY=($(compgen -W "aurora-mysql aurora-postgresql dynamodb redis s3-bucket secret sns sqs" -- "$cur")) ;;
	schema | lsp) ;;
	*) COMPREPLY=($(compgen -f -X '!*.@(yaml|yml)' -- "$cur") $(compgen -d -- "$cur")) ;;
	esac
}
complete -F _platformc platformc
