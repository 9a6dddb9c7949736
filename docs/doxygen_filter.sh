#!/bin/sh
# Doxygen input filter (docs/Doxyfile.in): shows the headers' plain //
# comments as documentation. A header's opening comment block becomes its
# @file description; a // line standing alone becomes ///; a // comment after
# code becomes ///< (and so do the comment lines, indented deeper, that
# continue it). The
# comments are plain text, so outside `code spans` the characters Doxygen
# would read as commands or HTML (\ @ < > & #) are escaped.
exec awk '
  function standalone(line) { return line ~ /^[ \t]*\/\/([^\/]|$)/ }
  function escape(text,    n, parts, i, out, s) {
    n = split(text, parts, "`")
    out = ""
    for (i = 1; i <= n; i++) {
      s = parts[i]
      if (i % 2 == 1) {
        gsub(/\\/, "\\\\\\\\", s); gsub(/@/, "\\@", s); gsub(/</, "\\<", s)
        gsub(/>/, "\\>", s); gsub(/&/, "\\\\&", s); gsub(/#/, "\\#", s)
      }
      out = out (i > 1 ? "`" : "") s
    }
    return out
  }
  # Prints CODE followed by MARK and the escaped comment TEXT.
  function emit(code, mark, text) { print code mark escape(text) }
  !guard && /^#ifndef / { guard = 1 }
  !guard {
    if (standalone($0)) {
      if (!file_doc++) print "/// @file"
      i = index($0, "//"); emit(substr($0, 1, i - 1), "///", substr($0, i + 2)); next
    }
    print; next
  }
  # A comment line indented deeper than the code before a trailing comment
  # continues that comment; at the indentation of the code it starts a new one.
  standalone($0) {
    i = index($0, "//")
    if (!(trailing && i - 1 > code_indent)) trailing = 0
    emit(substr($0, 1, i - 1), trailing ? "///<" : "///", substr($0, i + 2)); next
  }
  /[;,{)][ \t]+\/\/ / && !/"[^"]*\/\/[^"]*"/ {
    i = index($0, " //"); trailing = 1
    code = substr($0, 1, i - 1); sub(/[ \t]+$/, "", code)
    match(code, /^[ \t]*/); code_indent = RLENGTH
    emit(code " ", "///<", substr($0, i + 3)); next
  }
  { trailing = 0; print }' "$1"
