# Puts certmgr's synopses into certmgr(1): each "@SYNOPSIS NAME@" line
# becomes the line for NAME of the file syn ("NAME<TAB>roff", made by
# certmgr --roff-synopsis).  A placeholder without a synopsis, or a
# subcommand without a placeholder, fails.
BEGIN {
	FS = "\t"
	while ((getline line < syn) > 0) {
		tab = index(line, "\t")
		name = substr(line, 1, tab - 1)
		text[name] = substr(line, tab + 1)
		order[++n] = name
	}
	close(syn)
	if (n == 0) {
		print "synopsis.awk: no synopses in " syn > "/dev/stderr"
		exit 1
	}
}
/^@SYNOPSIS .*@$/ {
	name = substr($0, 11, length($0) - 11)
	if (!(name in text)) {
		print "synopsis.awk: no synopsis for " name > "/dev/stderr"
		bad = 1
		exit 1
	}
	print text[name]
	used[name] = 1
	next
}
{ print }
END {
	if (bad)
		exit 1
	for (i = 1; i <= n; i++)
		if (!(order[i] in used)) {
			print "synopsis.awk: certmgr(1) lacks @SYNOPSIS " \
			    order[i] "@" > "/dev/stderr"
			exit 1
		}
}
