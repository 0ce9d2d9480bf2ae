# Turns config/ftpsd.conf.sample into the KEYS section of ftpsd.conf(5),
# so the manual lists exactly the keys the sample documents (and a unit
# test checks the sample against the code).
#   "## Title"            -> .SS Title
#   "# key[, key]: text"  -> .TP with the key names in bold
#   "# key = default"     -> "Default: key = default"
#   "#   word  text"      -> a no-fill block (value lists)
#   "# text"              -> running text
function esc(s) {
	gsub(/\\/, "\\e", s)
	if (s ~ /^[.']/)
		s = "\\&" s
	return s
}
function endnf() {
	if (nf) {
		print ".fi"
		nf = 0
	}
}
BEGIN { started = 0; nf = 0 }
/^## / {
	started = 1
	endnf()
	print ".SS \"" esc(substr($0, 4)) "\""
	next
}
!started { next }
/^[ \t]*$/ { endnf(); next }
/^# [a-z0-9_]+ =/ {
	endnf()
	print ".br"
	print "Default: \\fB" esc(substr($0, 3)) "\\fR"
	next
}
/^# [a-z0-9_]+(, [a-z0-9_]+)*: / {
	endnf()
	i = index($0, ": ")
	keys = substr($0, 3, i - 3)
	gsub(/, /, "\\fR, \\fB", keys)
	print ".TP"
	print "\\fB" keys "\\fR"
	print esc(substr($0, i + 2))
	next
}
/^#   / {
	if (!nf) {
		print ".nf"
		nf = 1
	}
	print esc(substr($0, 3))
	next
}
/^#\t/ {
	if (!nf) {
		print ".nf"
		nf = 1
	}
	print esc(substr($0, 2))
	next
}
/^# / {
	endnf()
	print esc(substr($0, 3))
	next
}
{ endnf() }
END { endnf() }
