package expr

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// perlCases are expressions without request data whose scalar value was
// checked against perl 5.36 (print of eval; undef shown as <undef>).
var perlCases = []struct{ src, want string }{
	{`'abc'`, `abc`},
	{`'it\'s \\ \n'`, `it's \ \n`},
	{`"a\tb\n"`, "a\tb\n"},
	{`"\x41\x{263A}\101\$\@\""`, "A☺A$@\""},
	{`q(a(b)c)`, `a(b)c`},
	{`qq{x{y}z}`, `x{y}z`},
	{`qw/a b c/`, `c`},
	{`qw(a b)`, `b`},
	{`1`, `1`},
	{`1.5`, `1.5`},
	{`1_000`, `1000`},
	{`0x1F`, `31`},
	{`0b101`, `5`},
	{`017`, `15`},
	{`1e3`, `1000`},
	{`.5`, `0.5`},
	{`-7`, `-7`},
	{`1 + 2 * 3`, `7`},
	{`7 / 2`, `3.5`},
	{`6 / 2`, `3`},
	{`-7 / 2`, `-3.5`},
	{`7 % 3`, `1`},
	{`-7 % 3`, `2`},
	{`7 % -3`, `-2`},
	{`10 % 3.7`, `1`},
	{`2 ** 10`, `1024`},
	{`2 ** 0.5`, `1.4142135623731`},
	{`-2 ** 2`, `-4`},
	{`"3abc" + 0`, `3`},
	{`"abc" + 1`, `1`},
	{`"10" == "10.0"`, `1`},
	{`"10" eq "10.0"`, ``},
	{`"abc" == 0`, `1`},
	{`1 . 2`, `12`},
	{`1.5 . ""`, `1.5`},
	{`10 / 3`, `3.33333333333333`},
	{`1e21 . ""`, `1e+21`},
	{`"ab" x 3`, `ababab`},
	{`"ab" x 0`, ``},
	{`"ab" x -1`, ``},
	{`"ab" x 2.7`, `abab`},
	{`1 <=> 2`, `-1`},
	{`"b" cmp "a"`, `1`},
	{`"a" lt "b"`, `1`},
	{`"B" gt "a"`, ``},
	{`2 <= 2`, `1`},
	{`3 >= 4`, ``},
	{`1 != 1`, ``},
	{`!1`, ``},
	{`!0`, `1`},
	{`!""`, `1`},
	{`!"0.0"`, ``},
	{`not 0`, `1`},
	{`not(0) . "x"`, `1x`},
	{`1 && "a"`, `a`},
	{`0 && "a"`, `0`},
	{`"" || "b"`, `b`},
	{`"x" || "b"`, `x`},
	{`undef // "d"`, `d`},
	{`0 // "d"`, `0`},
	{`1 ? "yes" : "no"`, `yes`},
	{`0 ? "yes" : "no"`, `no`},
	{`(1, 2, 3)`, `3`},
	{`-"foo"`, `-foo`},
	{`-"-foo"`, `+foo`},
	{`- -1`, `1`},
	{`-"12abc"`, `-12`},
	{`lc "ABC def"`, `abc def`},
	{`uc "abc DEF"`, `ABC DEF`},
	{`length "hello"`, `5`},
	{`length ""`, `0`},
	{`defined undef`, ``},
	{`defined 0`, `1`},
	{`join(":", 1, 2, 3)`, `1:2:3`},
	{`join ",", qw(a b), "c"`, `a,b,c`},
	{`substr("abcdef", 2)`, `cdef`},
	{`substr("abcdef", 2, 3)`, `cde`},
	{`substr("abcdef", -2)`, `ef`},
	{`substr("abcdef", 1, -1)`, `bcde`},
	{`substr("abc", -5, 3)`, `a`},
	{`sprintf("%s-%d-%i", "a", 3.9, -3.9)`, `a-3--3`},
	{`sprintf("%5s|%-5s|%05d|%+d|% d", "ab", "ab", 42, 5, 5)`, `   ab|ab   |00042|+5| 5`},
	{`sprintf("%--5d|%-+-+3d|", 1, 2)`, `1    |+2 |`},
	{`'ab' x 'inf'`, ``},
	{`sprintf('[%06d|%+06d|% 6d|%+d|%+d|%6.2e|%#x|%-05d|%05s]', '-inf', 'inf', 'inf', '-inf', 'nan', 'inf', 'inf', 'inf', 'ab')`, `[00-Inf|00+Inf|  +Inf|-Inf|NaN|   Inf|Inf|Inf  |000ab]`},
	{`"a" x3`, `aaa`},
	{`1x2`, `11`},
	{`0x10 x2`, `1616`},
	{`"${URI}[0]|${HOSTNAME}{lang}|${URI}->[0]"`, `/uri/klaus[0]|www.xyz.de{lang}|/uri/klaus->[0]`},
	{`join('|', qw,a b,, q;c d;, qw=e f=)`, `a|b|c d|e|f`},
	{`$URI =~ m,klaus, ? 'y' : 'n'`, `y`},
	{"join('|', qw(a\u00a0b c\td))", "a\u00a0b|c|d"},
	{`sprintf("%x %X %o %b %#x %#o %#b", 255, 255, 8, 5, 255, 8, 5)`, `ff FF 10 101 0xff 010 0b101`},
	{`sprintf("%u %x", -1, -1)`, `18446744073709551615 ffffffffffffffff`},
	{`sprintf("%e %E %f %g %G", 1234.5, 1234.5, 1.5, 1234567, 0.000012345)`, `1.234500e+03 1.234500E+03 1.500000 1.23457e+06 1.2345E-05`},
	{`sprintf("%.3g %5.1f %.2e %.0f %.0f", 3.14159, 2.25, 12345, 0.5, 1.5)`, `3.14   2.2 1.23e+04 0 2`},
	{`sprintf("%c%c%%", 65, 66)`, `AB%`},
	{`sprintf("%5%|%y|%s")`, `    %|%y|`},
	{`sprintf('%2$s %1$s', "a", "b")`, `b a`},
	{`sprintf("%*d|%-*d|%.*f", 4, 7, 4, 7, 2, 3.14159)`, `   7|7   |3.14`},
	{`sprintf("%.2s", "abcdef")`, `ab`},
	{`sprintf("%d %s", "inf", 9**9**9)`, `Inf Inf`},
	{`sprintf("%.3d|%3.2d", 7, 7)`, `007| 07`},
	{`sprintf("%s")`, ``},
	{`sprintf('%0$s|%00$s|%01$s|%*0$d|%*2s|', 'a')`, `%0$s|%00$s|%01$s|%*0$d|%*2s|`},
	{`sprintf('%2$*1$d|%*2$d %d|%2$s %s %s|', 5, 3, 'c')`, `    3|  5 3|3 c |`},
	{`sprintf('%.*2$f|%2$.*1$f|%*3$.*2$f|%*1$s|%.*s|%2$*d|%1$*2$d', 1.23456, 2, 8, -4, 'x', -2, 'abc', 1, 2)`, `1.23|2.0|    2.00|8|x|2 | 1`},
	{`sprintf('%c|%c|%c|%c|%c|%3c|%-2c|%c|%c', 0xD800, 0x110000, 0x7FFFFFFF, 2**32+65, 255, 0x263A, 65, 65.9, '0x41')`, "\xED\xA0\x80|\xF4\x90\x80\x80|\xFD\xBF\xBF\xBF\xBF\xBF|\xFE\x84\x80\x80\x80\x81\x81|\xFF|☺|A |A|\x00"},
	{`sprintf('%c', 0x7FFFFFFFFFFFFFFF) . "\x{D800}"`, "\xFF\x80\x87\xBF\xBF\xBF\xBF\xBF\xBF\xBF\xBF\xBF\xBF\xED\xA0\x80"},
	{`sprintf('%hd|%hhd|%hhd|%hu|%hx|%hhx|%hd|%hu|%hhu|%ld|%lld|%qd|%Ld|%Vd|%zd|%td|%jd|%hi|%ho|%hb|%hc|%hs|%hd|%hd', 70000, 300, 200, 70000, 70000, -1, -1, -1, -1, 70000, 70000, 70000, 70000, 70000, 1, 1, 1, 70000, 70000, 70000, 65, 'ab', 1e19, -70000)`, `4464|44|-56|4464|1170|ff|-1|65535|255|70000|70000|70000|70000|70000|1|1|1|4464|10560|1000101110000|A|ab|0|-4464`},
	{`sprintf('%hf|%hhf|%lf|%Lf|%qf|%Vf|%zf|%llf|%hg|%hld|%lhd|%hhhd|%llld|%h%|%zu|%Vx', 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, -1, -1)`, `%hf|%hhf|1.500000|1.500000|1.500000|1.500000|%zf|1.500000|%hg|%hld|%lhd|%hhhd|%llld|%|1|1`},
	{`sprintf('%B|%#010B|%#B|%D|%U|%O|%hD|%hU|%hO|%hhD|%lD', 5, 5, 0, -5, -1, 8, 70000, 70000, 70000, 300, 5)`, `101|0B00000101|0|-5|18446744073709551615|10|70000|70000|210560|300|5`},
	{`sprintf('%#08x|%#010b|%#o|%#.0o|%#x|%#-8x|%#08X|%#010.5x|%#08b|%#.0x|%08.3x|%+#08x|% 08x', 255, 5, 8, 0, 0, 255, 255, 255, 0, 0, 255, 255, 255)`, `0x0000ff|0b00000101|010|0|0|0xff    |0X0000FF|   0x000ff|00000000||     0ff|0x0000ff|000000ff`},
	{`sprintf('%.0d|%+.0d|% .0d|%5.0d|%08.3d|%+08d|% 08d|%#08.0o|%#.3o|%#.0o|%#5o|%#x|%+u|%#d', 0, 0, 0, 0, -5, 5, -5, 0, 0, 8, 0, -1, 5, 5)`, `|+| |     |    -005|+0000005|-0000005|       0|000|010|    0|0xffffffffffffffff|5|5`},
	{`join "|", substr("abcd","inf"), substr("abcd",1e19), substr("abcdef",1,"inf"), substr("abcdef",1,9**9**9), substr("abcd","nan"), substr("abcd",-9**9**9), substr("abcd",2**64)`, `d|abcd|bcde|bcde|abcd|abcd|d`},
	{`sprintf("%d %d %d %d %u %x", 1e19, 2**64, -1e19, 2**63, -1e19, 1.8e19)`, `-8446744073709551616 -1 -9223372036854775808 -9223372036854775808 9223372036854775808 f9ccd8a1c5080000`},
	{`[10,11,12]->[9**9**9] . [10,11,12]->["nan"] . [10,11,12]->[2**64] . (defined([10,11,12]->[1e19]) ? 1 : 0)`, `1210120`},
	// The vector flag: each byte of the string as a number, joined by a
	// point or by the string of *v.
	{`join '|', sprintf("%vd","1.22.333"), sprintf("%vx","1.22.333"), sprintf("%*vd",":","1.22.333"), sprintf("%#vx","1.22.333"), sprintf("%vd",""), sprintf("%vd",1.5)`, `49.46.50.50.46.51.51.51|31.2e.32.32.2e.33.33.33|49:46:50:50:46:51:51:51|0x31.0x2e.0x32.0x32.0x2e.0x33.0x33.0x33||49.46.53`},
	{`join '|', sprintf("%03vd","1.2.3"), sprintf("%-3vd","1.2.3"), sprintf("%.3vd","1.2.3"), sprintf("%vs","1.2"), sprintf("%vf","1.2"), sprintf("%vc","1.2"), sprintf("%+vd","1.2"), sprintf("% vd","1.2")`, `%03vd|%-3vd|%.3vd|%vs|%vf|%vc|+49.46.50| 49.46.50`},
	{`join '|', sprintf("%*v02x","-","1.2.3"), sprintf('%2$vd|%1$*3$vd',"1.2","3.4",":"), sprintf("%v*d","1.2",3), sprintf("%*vd","1.2"), sprintf("%vld","1.2.3"), sprintf("%hvd","1.2.3"), sprintf("%vhd","1.2.3")`, `31-2e-32-2e-33|51.46.52|49:46:50|51||49.46.50.46.51|%hvd|49.46.50.46.51`},
	{`join '|', sprintf("%vb|%vo|%vX|%vi|%vu","1.10","8.9","255.10","1.2","3.4"), sprintf("%v%"), sprintf("%ve","1.2"), sprintf("%vD","1.2"), sprintf("%*vd",undef,"1.2"), sprintf("%v#x","1.2"), sprintf("%#*vx","::","1.255")`, `110001.101110.110001.110000|70.56.71|32.35.35.2E.31.30|49.46.50|51.46.52|%v%|%ve|49.46.50|494650|%v#x|0x31::0x2e::0x32::0x35::0x35`},
	{`join '|', sprintf("%v.3d","1.2"), sprintf("%*v", ".", "1.2"), sprintf("%vd", "1..2"), sprintf("%vd", "\xff\xfe"), sprintf("%10vd|", "1.2"), sprintf("%vd|%s", "1.2", "x")`, `049.046.050|%*v|49.46.46.50|255.254|%10vd||49.46.50|x`},
	{`join '|', sprintf("%vhhd", "\xc8"), sprintf("%v5d|", "\x01\x02"), sprintf("%-v5d|", "\x01\x02"), sprintf("%v-5d|", "\x01\x02"), sprintf("%*v*d", ":", 3, "\x01\x02"), sprintf("%v*d|", -3, "\x01\x02"), sprintf("%v.0d|", "\x00\x01"), sprintf("%#vo", "\x00\x08"), sprintf("%#vb", "\x00\x05")`, `200|    1.    2||1    .2    ||%v-5d||  1:  2|1  .2  ||.1||0.010|0.0b101`},
	{`join '|', sprintf("%v5d|", ""), sprintf("%v*v d", "1"), sprintf('%*2$vd', "a.b", "-"), sprintf("%vv", "1"), sprintf("%v0d", "\x01"), sprintf("%v00d|", "\x01"), sprintf("%v03d|", "\x01"), sprintf("%+vu", "\x01\x02"),sprintf("%+vx", "\x01\x02"), sprintf("%vvd", "1"), sprintf("%*v*vd", ":", "1")`, `||%v*v d|97-46-98|%vv|1|%v00d||001||1.2|1.2|%vvd|%*v*vd`},
	// %a and %A: hex floats, rounded half to even on a hex digit.
	{`join '|', sprintf("%a",1), sprintf("%a",0), sprintf("%a",-0.0), sprintf("%a",-1.5), sprintf("%A",255.5), sprintf("%a",0.1), sprintf("%.2a",0.1), sprintf("%.0a",1.5), sprintf("%.0a",2.5), sprintf("%.0a",1.75), sprintf("%.1a",1.96875), sprintf("%#a",1), sprintf("%#.0a",1)`, `0x1p+0|0x0p+0|-0x0p+0|-0x1.8p+0|0X1.FFP+7|0x1.999999999999ap-4|0x1.9ap-4|0x2p+0|0x1p+1|0x2p+0|0x2.0p+0|0x1.p+0|0x1.p+0`},
	{`join '|', sprintf("%+a",1), sprintf("% a",1), sprintf("%20a|",1), sprintf("%-20a|",1), sprintf("%020a|",-1), sprintf("%a","inf"), sprintf("%a","-inf"), sprintf("%A","nan"), sprintf("%+a","inf"), sprintf("%010a","inf")`, `+0x1p+0| 0x1p+0|              0x1p+0||0x1p+0              ||-0x00000000000001p+0||Inf|-Inf|NaN|+Inf|0000000Inf`},
	{`join '|', sprintf("%a",2**-1074), sprintf("%a",2**-1022), sprintf("%a",2**-1023), sprintf("%a",1.7976931348623157e308), sprintf("%.20a",1), sprintf("%a",3), sprintf("%a",1e19), sprintf("%a","abc"), sprintf("%a",-255), sprintf("%.3a",-255)`, `0x1p-1074|0x1p-1022|0x1p-1023|0x1.fffffffffffffp+1023|0x1.00000000000000000000p+0|0x1.8p+1|0x1.158e460913dp+63|0x0p+0|-0x1.fep+7|-0x1.fe0p+7`},
	{`join '|', sprintf("%la",1), sprintf("%La",1), sprintf("%ha",1), sprintf("%qa",1), sprintf("%.1a",2**-1074), sprintf("%.0a",2**-1074), sprintf("%.2a",3*2**-1074), sprintf("%a",9007199254740993), sprintf("%a","18446744073709551615"), sprintf("%.0a",1.5*2**-1022)`, `0x1p+0|0x1p+0|%ha|0x1p+0|0x1.0p-1074|0x1p-1074|0x1.80p-1073|0x1p+53|0x1p+64|0x2p-1022`},
	{`join '|', sprintf("%.13a",1), sprintf("%.14a",0.1), sprintf("%.1a",1.25), sprintf("%.1a",1.03125), sprintf("%.1a",1.09375), sprintf("%.1a",1.90625), sprintf("%.0a",1.9999), sprintf("%.2a",1.99999), sprintf("% 010.2a",1), sprintf("%-+8a|",0), sprintf("%.12a", 1+2**-52*0x18), sprintf("%.12a", 1+2**-52*0x8)`, `0x1.0000000000000p+0|0x1.999999999999a0p-4|0x1.4p+0|0x1.0p+0|0x1.2p+0|0x1.ep+0|0x2p+0|0x2.00p+0| 0x1.00p+0|+0x0p+0 ||0x1.000000000002p+0|0x1.000000000000p+0`},
	{`join '|', sprintf("%#.1a",1), sprintf("%#A",-0.5), sprintf("%#020a",1), sprintf("%+020.3A",1), sprintf("%.1a", 1+0xff8/4096), sprintf("%.1a", 1+0xe8/256), sprintf("%za",1), sprintf("%*a", -12, 2), sprintf("%.*a", 2, 2.75), sprintf('%2$a', 1, 2), sprintf("%A", 1e-300), sprintf("%a", 123456789)`, `0x1.0p+0|-0X1.P-1|0x00000000000001.p+0|+0X0000000001.000P+0|0x2.0p+0|0x1.ep+0|%za|0x1p+1      |0x1.60p+1|0x1p+1|0X1.56E1FC2F8F359P-997|0x1.d6f3454p+26`},
	// undef is followed by an operator, or by // and ? as a value is.
	{`join '|', undef . 5, undef.'a', undef ? 1 : 0, undef ?1:2, undef // 'd', undef || 1, undef == 1, undef != 1, undef lt 1, undef cmp 1, undef =~ /a/, undef() + 1, (undef) + 1, not(), not + 1, (undef, 1)`, `5|a|0|2|d|1||1|1|-1|1|1|1|`},
	{`do { 1; 2 }`, `2`},
	{`do { }`, `<undef>`},
	{`1; 2;`, `2`},
	{`1 if 0`, `0`},
	{`5 if 1`, `5`},
	{`5 unless 0`, `5`},
	{`5 unless 7`, `7`},
	{`if (0) { 1 } else { 2 }`, `2`},
	{`if (1) { 1 } else { 2 }`, `1`},
	{`if (0) { 1 } elsif (1) { 3 } else { 2 }`, `3`},
	{`unless (0) { 9 }`, `9`},
	{`0 || 0 || "last"`, `last`},
	{`1 + 1 == 2 && "ok"`, `ok`},
	{`"a" . "b" x 2`, `abb`},
	{`1 < 2 ? "lt" : "ge"`, `lt`},
	{`"x" =~ /X/i`, `1`},
	{`"a\nb" =~ /a$/m`, `1`},
	{`"a\nb" =~ /a$/`, ``},
	{`"ab\n" =~ /b$/`, `1`},
	{`"ab\n" =~ /^ab$/`, `1`},
	{`"ab\n" =~ /b\z/`, ``},
	{`"abc" =~ /^ab(c)/ ? $1 : 0`, `c`},
	{`"xabc" =~ /^ab(c)/ ? $1 : 0`, `0`},
	{`"x\nabc" =~ /^ab(c)/m ? $1 : 0`, `c`},
	{`"ABC" =~ /^ab(c)/i ? $1 : 0`, `C`},
	{`"abc" =~ /\Aab./`, `1`},
	{`"xabc" =~ /\Aab./`, ``},
	{`"a.b" =~ /a\.b/`, `1`},
	{`"axb" =~ /a\.b/`, ``},
	{`"a b" =~ / a \s b /x`, `1`},
	{`"a\nb" =~ /a.b/`, ``},
	{`"a\nb" =~ /a.b/s`, `1`},
	{`"foo" !~ /bar/`, `1`},
	{`"abc" =~ /b/`, `1`},
	{`"Host: x" =~ m{^Host:\s*(\S+)}`, `1`},
	{`"ABC" =~ m!b!i`, `1`},
	{`"2024-05-06" =~ /^(\d+)-(\d+)-(\d+)$/ ? "$3.$2.$1" : "no"`, `06.05.2024`},
	{`"abc" =~ /(x)?(b)/; defined $1 ? "d" : "u"`, `u`},
	{`"ab" =~ /(a)/; "cd" =~ /(x)/; $1`, `a`},
	{`"ab" =~ /a/; defined $1 ? "d" : "u"`, `u`},
	{`"a" =~ /(a)/; "b" =~ /b/; defined $1 ? "d" : "u"`, `u`},
	{`2 - 3 - 4`, `-5`},
	{`2 ** 3 ** 2`, `512`},
	{`100 / 10 / 5`, `2`},
	{`"1" + "1"`, `2`},
	{`9223372036854775807 + 0`, `9223372036854775807`},
	{`-9223372036854775807 - 1`, `-9223372036854775808`},
	{`"5" * "4"`, `20`},
	{`1.5 + 1.5`, `3`},
	{`0.1 * 3`, `0.3`},
	{`1 . ""`, `1`},
	{`1e15 + 0.5`, `1e+15`},
	{`-0.0 . ""`, `0`},
	{`"a" lt "B"`, ``},
	{`"10" < "9"`, ``},
	{`"10" lt "9"`, `1`},
	// \s matches a vertical tab, as in Perl.
	{`"a\x0bb" =~ /a\sb/ ? 1 : 0`, `1`},
	{`"a\x0bb" =~ /a[\s]b/ ? 1 : 0`, `1`},
	{`"a\x0bb" =~ /a\Sb/ ? 1 : 0`, `0`},
	{`"a\x0bb" =~ /a[^\S]b/ ? 1 : 0`, `1`},
	{`"axb" =~ /a[\S]b/ ? 1 : 0`, `1`},
	{`"a b" =~ /a[\Sx]b/ ? 1 : 0`, `0`},
	{`"a\tb" =~ /^a\s+b$/ ? 1 : 0`, `1`},
	// \s inside a class is an item of it: a "-" after it is no range.
	{`"a" =~ /^[\s-z]$/ ? 1 : 0`, `0`},
	{`"#" =~ /^[\w\s-.]$/ ? 1 : 0`, `0`},
	{`"!" =~ /^[\s-~]$/ ? 1 : 0`, `0`},
	{`"5" =~ /^[\s-\d]$/ ? 1 : 0`, `1`},
	{`"-" =~ /^[\s-z]$/ ? 1 : 0`, `1`},
	{`"z" =~ /^[\S-]$/ ? 1 : 0`, `1`},
	{`" " =~ /^[\S-]$/ ? 1 : 0`, `0`},
	{`"\x0b" =~ /^[\s]$/ ? 1 : 0`, `1`},
	{`"\x0b" =~ /^[^\S]$/ ? 1 : 0`, `1`},
	{`"\x0b" =~ /^\S$/ ? 1 : 0`, `0`},
	// A huge power ends at once: a float, or where Perl's test that it
	// fits in 64 bits wraps, by squaring modulo 2^64.
	{`10 ** 4611686018427387904`, `0`},
	{`3 ** 4611686018427387904`, `Inf`},
	{`3 ** 64`, `3.43368382029251e+30`},
	// The captures of a block end with it.
	{`"x" =~ /(x)/; do { "a" =~ /(a)/ }; $1`, `x`},
	{`"x" =~ /(x)/; do { "a" =~ /(a)/; $1 } . $1`, `ax`},
	{`"x" =~ /(x)/; if (1) { "a" =~ /(a)/ } $1`, `x`},
	{`if ("a" =~ /(a)/) { $1 } else { 'no' }`, `a`},
	// Unary minus on strings: a sign turned, a "-" put before a word.
	{`-"+12abc"`, `-12abc`},
	{`-"+1.50"`, `-1.50`},
	{`-"+"`, `-`},
	{`-"-"`, `+`},
	{`-"-12abc"`, `+12abc`},
	{`-"inf"`, `-inf`},
	{`-"nan"`, `-nan`},
	{`-"-inf"`, `Inf`},
	{`-"-nan"`, `NaN`},
	{`-"-12"`, `12`},
	{`-"12abc"`, `-12`},
	{`-" 5"`, `-5`},
	{`-"-.x"`, `+.x`},
	{`-"foo"`, `-foo`},
	{`-"_x"`, `-_x`},
	{`-"-1e3"`, `1000`},
	{`-"-1e"`, `+1e`},
	{`-"- 5"`, `+ 5`},
	{`-"-5 "`, `5`},
	{`-""`, `0`},
	{`-"0"`, `0`},
	{`-"-0"`, `0`},
	{`-"1.5"`, `-1.5`},
	{`-"-Infinity"`, `Inf`},
	{`-"-infx"`, `+infx`},
	// Perl's integers in arithmetic: a whole float below 2^53 counts as
	// one, a quotient is a float unless an operand is beyond 2^53, and
	// ** is an integer where Perl computes it with integers.
	{`1e15*10`, `10000000000000000`},
	{`2e15-1`, `1999999999999999`},
	{`10**15`, `1000000000000000`},
	{`10**16`, `10000000000000000`},
	{`10**20`, `1e+20`},
	{`2**52`, `4.5035996273705e+15`},
	{`2**10`, `1024`},
	{`3**40`, `1.21576654590569e+19`},
	{`3**41`, `3.64729963771708e+19`},
	{`(-3)**3`, `-27`},
	{`(-3)**40`, `1.21576654590569e+19`},
	{`2**0.5`, `1.4142135623731`},
	{`4e15 / 2`, `2e+15`},
	{`6/3`, `2`},
	{`7/2`, `3.5`},
	{`9007199254740993/1`, `9007199254740993`},
	{`"4000000000000000.0" + 0`, `4e+15`},
	{`"4000000000000000" + 0`, `4000000000000000`},
	{`1e15 + 1`, `1000000000000001`},
	{`0.1+0.2`, `0.3`},
	{`1e16 + 1`, `1e+16`},
	{`-0.0 * 1`, `0`},
	{`0 * -1`, `0`},
	{`1.5*2`, `3`},
	{`3*1.5`, `4.5`},
	{`1e300*1e10`, `Inf`},
	{`1e15/1`, `1e+15`},
	{`10/3`, `3.33333333333333`},
	{`2**-1`, `0.5`},
	{`0**0`, `1`},
	{`(-2)**63`, `-9.22337203685478e+18`},
	{`(-2)**3`, `-8`},
	{`7**22`, `3.90982104858299e+18`},
	{`7**23`, `2.73687473400809e+19`},
	// Comparisons chain since Perl 5.32.
	{`1 < 2 < 3`, `1`},
	{`3 > 2 > 1`, `1`},
	{`2 < 1 < 3`, ``},
	{`1 < 3 < 2`, ``},
	{`1 < 2 < 3 < 2`, ``},
	{`1 == 1 == 1`, `1`},
	{`1 == 1 != 0`, `1`},
	{`1 == 1 != 1`, ``},
	{`"a" lt "b" le "b" gt "a"`, `1`},
	{`"b" eq "b" ne "c"`, `1`},
	{`"10" < "9" < 11`, ``},
	{`0 < 0.5 <= 0.5`, `1`},
	{`1 < 2 == 1`, `1`},
	{`1 == 1 < 2`, `1`},
	{`1 <=> 2 < 3`, `0`},
	{`(1 < 2 < 3) + 5`, `6`},
	{`defined(1 < 2 < 0)`, `1`},
	// x after parentheses or qw repeats a list; in scalar context the
	// list is its last element, repeated as a string.
	{`join ',', ('x') x 3`, `x,x,x`},
	{`join ',', qw(a b) x 2`, `a,b,a,b`},
	{`join '-', (1, (2, 3)) x 2`, `1-2-3-1-2-3`},
	{`join ',', ((1, 2) x 2) x 2`, `1,2,1,2,1,2,1,2`},
	{`join ',', +(1, 2) x 2`, `1,2,1,2`},
	{`join ',', (1, 2) x 2.7, (3) x 0, (4) x -1, (5) x 'inf', (6) x 'nan', () x 3`, `1,2,1,2`},
	// A count that is negative or 0 as an integer, as floats from 2^63,
	// Inf and NaN are, repeats nothing.
	{`join '|', 'a' x 1e19, 'a' x -1e19, 'a' x 'nan', 'a' x 'inf', 'a' x '-inf', 'a' x 2**64, 'a' x 1e300, 'a' x 2.7, 'a' x '-0.5'`, `|||||||aa|`},
	{`$CTX{c} = '18446744073709551615'; $CTX{d} = '1e19'; ('a' x $CTX{c}) . ('b' x $CTX{d}) . 'c'`, `c`},
	{`join(',', ('a') x 1e19, ('b') x 'inf', ('c') x 2**64, ('e') x 2, ('f') x -1e19, ('g') x 'nan')`, `e,e`},
	{`(1, 2) x 2`, `22`},
	{`qw(a b) x 2`, `bb`},
	{`() x 3`, ``},
	{`(1, 2) x 2 x 2`, `2222`},
	{`(1, 2) x 2 . 'z'`, `22z`},
	{`(1, 2) x (3, 2)`, `22`},
	{`-(1) x 2`, `-1-1`},
	{`(1)**2 x 3`, `111`},
	{`do { (1, 2) } x 2`, `22`},
	{`[(1) x 2]`, `[1, 1]`},
	{`[(1, 2) x 2]`, `[1, 2, 1, 2]`},
	// A qw list that is all of the arguments is so many strings; the
	// first argument of join and sprintf is in scalar context.
	{`join(qw/1 2/)`, `2`},
	{`join qw(1 2 3)`, `213`},
	{`join((qw(- a b)))`, `a-b`},
	{`join(qw/- a b/, 'c')`, `c`},
	{`join((',', 'a'), 'b', 'c')`, `bac`},
	{`join(qw(), 'b', 'c')`, `bc`},
	{`join(qw())`, ``},
	{`sprintf(qw/%s-%s a b/)`, `a-b`},
	{`sprintf qw(%s a)`, `a`},
	{`sprintf(('%s-%s', 'a'), 'b', 'c')`, `a`},
	{`substr(qw(abcdef 2 3))`, `cde`},
	{`substr(qw(abcdef 2), 1)`, ``},
	{`length qw()`, `<undef>`},
	{`lc qw(A B) . 'x'`, `bx`},
	{`[qw(a b)]`, `[a, b]`},
	// % takes integers in the unsigned 64-bit range with all their
	// digits, and makes a float modulus of operands beyond it.
	{`'9223372036854775807' % 10`, `7`},
	{`-3 % 9007199254740993`, `9007199254740990`},
	{`9007199254740993 % 2`, `1`},
	{`9.007199254740993e15 % 2`, `0`},
	{`-7 % -3`, `-1`},
	{`0 % -3`, `0`},
	{`-10.9 % 3.9`, `2`},
	{`'4.0' % '2.5'`, `0`},
	{`1.5e19 % 1e19`, `5000000000000000000`},
	{`-1.5e19 % 1e19`, `5000000000000000000`},
	{`1e19 % -7`, `-4`},
	{`-9223372036854775808 % 7`, `6`},
	{`7 % -9223372036854775808`, `-9223372036854775801`},
	{`-5 % 9223372036854775808`, `9223372036854775803`},
	{`7 % -1e19`, `-1e+19`},
	{`7.5 % 1e20`, `7.5`},
	{`-7.5 % 1e20`, `1e+20`},
	{`7.5 % -1e20`, `-1e+20`},
	{`1e20 % 7.5`, `0`},
	{`1e20 % -3`, `-2`},
	{`-1e20 % 3`, `2`},
	{`1e300 % 1e299`, `0`},
	{`5 % 'inf'`, `5`},
	{`-5 % 'inf'`, `Inf`},
	{`5 % '-inf'`, `-Inf`},
	{`-5 % '-inf'`, `-5`},
	{`'inf' % 0.5`, `NaN`},
	{`'inf' % 'inf'`, `NaN`},
	{`-'inf' % 3`, `NaN`},
	{`'nan' % 5`, `NaN`},
	{`5 % 'nan'`, `NaN`},
	// Integers go up to 2^64-1, as Perl's unsigned ones.
	{`18446744073709551615 . '|' . 0xffffffffffffffff . '|' . 18446744073709551616`, `18446744073709551615|18446744073709551615|1.84467440737096e+19`},
	{`'18446744073709551615' + 0`, `18446744073709551615`},
	{`'9223372036854775808' + 0`, `9223372036854775808`},
	{`9223372036854775807 + 1`, `9223372036854775808`},
	{`18446744073709551615 + 1`, `1.84467440737096e+19`},
	{`9223372036854775808 - 1`, `9223372036854775807`},
	{`"9223372036854775808" - 255`, `9223372036854775553`},
	{`-9223372036854775808 + 18446744073709551615`, `9223372036854775807`},
	{`9223372036854775808 - 18446744073709551615`, `-9223372036854775807`},
	{`0 - 18446744073709551615`, `-1.84467440737096e+19`},
	{`'-9223372036854775808' - 1`, `-9.22337203685478e+18`},
	{`9223372036854775807 * 2`, `18446744073709551614`},
	{`4294967296 * 4294967295`, `18446744069414584320`},
	{`-4294967296 * 2147483648`, `-9223372036854775808`},
	{`-4294967296 * 2147483649`, `-9.22337204114974e+18`},
	{`18446744073709551615 / 5`, `3689348814741910323`},
	{`18446744073709551615 / 2`, `9.22337203685478e+18`},
	{`18446744073709551614 / -2`, `-9223372036854775807`},
	{`18446744073709551615 % 10`, `5`},
	// A left operand beyond 2^64 makes a float modulus, of an integer
	// right operand as it is, of a float one rounded.
	{`join("|", 2**64 % 6666666666666667, -(2**64) % 6666666666666667, 1e20 % 4503599627370497, -1e20 % 4503599627370497, 1e20 % 18446744073709551615, "inf" % 4503599627370497, 1e20 % 7.5, 1e20 % "4503599627370496.5")`, `77407042884027|6.58925962378264e+15|2.07387386548461e+15|2.42972576188588e+15|7.76627963145224e+18|NaN|0|2.07387386550682e+15`},
	{`'18446744073709551615x' % 10`, `6`},
	{`-'9223372036854775808'`, `-9223372036854775808`},
	{`-(-9223372036854775807 - 1)`, `9223372036854775808`},
	{`-'18446744073709551615'`, `-1.84467440737096e+19`},
	{`255 ** 8`, `17878103347812890625`},
	{`(-255) ** 8`, `17878103347812890625`},
	{`(-2642245) ** 3`, `-1.84467241843129e+19`},
	// Perl's test that an integer power fits in 64 bits multiplies the
	// power by the bits of the base, which wraps for a huge power.
	{`join("|", 3 ** 9223372036854775808, 5 ** 6148914691236517206, (-3) ** 9223372036854775809, 12 ** 9223372036854775808, 18446744073709551615 ** 18446744073709551615, 7 ** 13176245766935394011, 3 ** 4611686018427387904)`, `1|1820432312797547977|-3|0|Inf|Inf|Inf`},
	// A power of two raised to an integer power: its sign follows the
	// power's parity, also past 2^53, and 0 has none.
	{`join("|", (-1) ** 9007199254740993, (-1) ** 18446744073709551615, (-2) ** 18446744073709551615, (-4) ** 9007199254740993, (-1) ** "9007199254740993", (-1) ** 9007199254740992, (-2) ** 63, sprintf("%g", "-0" ** 1))`, `-1|-1|-Inf|-Inf|-1|1|-9.22337203685478e+18|0`},
	{`join '|', 18446744073709551615 == 18446744073709551614, 18446744073709551615 <=> -1, 18446744073709551615 > 9223372036854775807, 9223372036854775808 == 9223372036854775808.0`, `|1|1|1`},
	{`sprintf('%d|%u|%x|%s|%.0f', 18446744073709551615, '18446744073709551615', 9223372036854775808, 18446744073709551615, 18446744073709551615)`, `-1|18446744073709551615|8000000000000000|18446744073709551615|18446744073709551616`},
	{`join '|', substr('abc', 18446744073709551615) // 'u', substr('abc', 1, 18446744073709551615), [1, 2, 3]->[18446744073709551615]`, `u|bc|3`},
	// Perl's arithmetic takes an operand for an integer when it holds it
	// as one: a string that is all an integer, or all a number with an
	// exponent and a whole value below 2^53, and Perl's false; not undef,
	// "", "4.0" or a number followed by text.
	{`join '|', '1e15' + 0, '1.5e15' + 0, '4.0e0' + 1e15, ' 4 ' + 1e15, '0 but true' + 1e15, !1 + 1e15, 1e15 - !1`, `1000000000000000|1500000000000000|1000000000000004|1000000000000004|1000000000000000|1000000000000000|1000000000000000`},
	// A string with an exponent is an integer operand up to 2^64-1, past
	// 2^53 too, as Perl's sv_2iuv_non_preserve makes it.
	{`join '|', '1e16' + 1, '1.5e16' + 1, '-1e18' - 1, '1e19' + 1, '9.223372036854775808e18' - 1, '-9.223372036854775808e18' + 1, '1e16' == 10000000000000001 ? 1 : 0, '1e16 ' <=> 10000000000000001, '2e19' - 1, '-9.3e18' + 1, '1e16x' + 1, -'1e16'`, `10000000000000001|15000000000000001|-1000000000000000001|10000000000000000001|9223372036854775807|-9223372036854775807|0|-1|2e+19|-9.3e+18|1e+16|-10000000000000000`},
	// A string made from Perl's false is a plain "", a float there.
	{`join('|', (!1 . "") + 1e15, ("" . !1) + 1e15, lc(!1) + 1e15, substr(!1, 0) + 1e15, do { $CTX{b} = !1; "$CTX{b}" } + 1e15, $CTX{b} + 1e15, (!0 . "") - 1e16)`, `1e+15|1e+15|1e+15|1e+15|1e+15|1000000000000000|-1e+16`},
	{`join '|', undef() + 1e15, '' + 1e15, '4.0' + 1e15, '4.' + 1e15, '12abc' + 1e15, -1e15, '4e0x' + 1e15`, `1e+15|1e+15|1e+15|1e+15|1.00000000000001e+15|-1e+15|1e+15`},
	{`join '|', '9007199254740993abc' + 0, '9007199254740993abc' == 9007199254740992, '9007199254740993abc' % 10, '9007199254740993' % 10, sprintf('%d', '9007199254740993abc')`, `9.00719925474099e+15|1|2|3|9007199254740992`},
	// + and - of two floats, or Perl's true and false, with whole values
	// below 2^62 make an integer.
	{`join '|', 1e16 - !0, 1e16 - (1 == 1), 1e16 - 1, 1e16 + 1e16, 2**53 + 2**53, 1e16 - !1, 4.6e18 + 1.0, 4611686018427387903.0 - !0, -4611686018427387904.0 - !0, 2**53 * 1.0, 3e9 * 3.0`, `9999999999999999|9999999999999999|1e+16|20000000000000000|18014398509481984|10000000000000000|4600000000000000001|4.61168601842739e+18|-4611686018427387905|9.00719925474099e+15|9000000000`},
	{`sprintf('%e|%.0f|%g', -0.0, -0.0, -0.0)`, `-0.000000e+00|-0|-0`},
	{`join '|', '123456789012345678x' + 1, '123456789012345678' + 1, undef() + 9223372036854775807`, `1.23456789012346e+17|123456789012345679|9.22337203685478e+18`},
	// After the block of an if, elsif, else or unless a statement starts,
	// after a do block or a subscript an operator.
	{`if (1) { 2 } .5`, `0.5`},
	{`if (0) { 2 } else { 3 } .5`, `0.5`},
	{`if (0) { 2 } elsif (0) { 3 } .5`, `0.5`},
	{`unless (0) { 2 } .5`, `0.5`},
	{`if (1) { if (1) { 2 } .5 } .7`, `0.7`},
	{`do { 1 } .5`, `15`},
	{`do { 1 } x 3`, `111`},
	{`$CTX{lang} .5`, `de5`},
	// Numbers as Perl reads them: a point starts a fraction, perhaps
	// empty; underscores go anywhere among the digits.
	{`1.`, `1`},
	{`1. . 2`, `12`},
	{`1.e3`, `1000`},
	{`1.E2`, `100`},
	{`1._5`, `1.5`},
	{`1_.5`, `1.5`},
	{`1.5_3`, `1.53`},
	{`1e1_0`, `10000000000`},
	{`1e-1_0`, `1e-10`},
	{`1e+_1`, `10`},
	{`5._e1`, `50`},
	{`.5e1`, `5`},
	{`1.x3`, `111`},
	{`1.eq 1`, `1`},
	{`1.-1`, `0`},
	{`1.5e1.2`, `152`},
	{`1e5.3`, `1000003`},
	{`1.5 .3.4`, `1.53.4`},
	{`$KEY.1.5`, `default1.5`},
}

func TestEvalMatchesPerl(t *testing.T) {
	for _, tt := range perlCases {
		v, err := eval(newTestEnv(), tt.src)
		if err != nil {
			t.Errorf("%s: %v", tt.src, err)
			continue
		}
		if got := show(v); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.src, got, tt.want)
		}
	}
}

// A chain of comparisons evaluates each operand once, left to right, and
// stops at the first comparison that fails, as Perl does.
func TestChainedComparisonsEvaluateOperandsOnce(t *testing.T) {
	for _, tt := range []struct{ src, n, m string }{
		{`1 < ($CTX{n} += 1) < 3`, "1", "<undef>"},
		{`0 < ($CTX{n} += 1) < ($CTX{m} = 7)`, "1", "7"},
		{`5 < ($CTX{n} += 1) < ($CTX{m} = 7)`, "1", "<undef>"},
	} {
		env := newTestEnv()
		if _, err := eval(env, tt.src); err != nil {
			t.Fatalf("%s: %v", tt.src, err)
		}
		if n, m := show(env.CTX("n")), show(env.CTX("m")); n != tt.n || m != tt.m {
			t.Errorf("%s: n=%s m=%s, want n=%s m=%s", tt.src, n, m, tt.n, tt.m)
		}
	}
}

// checkScalar evaluates each source against a fresh test request and
// compares the shown scalar value.
func checkScalar(t *testing.T, cases []struct{ src, want string }) {
	t.Helper()
	for _, tt := range cases {
		v, err := eval(newTestEnv(), tt.src)
		if err != nil {
			t.Errorf("%s: %v", tt.src, err)
			continue
		}
		if got := show(v); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.src, got, tt.want)
		}
	}
}

var interpolationCases = []struct{ src, want string }{
	{`"$URI"`, "/uri/klaus"},
	{`"${URI}x"`, "/uri/klausx"},
	{`"[$URI $PATH_INFO]"`, "[/uri/klaus ]"},
	{`"[$MATCHED_URI$MATCHED_PATH_INFO]"`, "[/uri/klaus]"},
	{`"AuthName \"$CTX{lang}\""`, `AuthName "de"`},
	{`"$CTX{lang}/$CTX{'lang'}/$CTX{ lang }"`, "de/de/de"},
	{`"$CTX{'la'.'ng'}!"`, "de!"},
	{`"<$ctx->{lang}>"`, "<de>"},
	{`"$HEADERS->{Host}"`, "www.xyz.de:8080"},
	{`"$KEY-$STATE"`, "default-1"},
	{`"cost: \$5, mail: a\@b"`, "cost: $5, mail: a@b"},
	{`"a@ b"`, "a@ b"},
	{`"line\n"`, "line\n"},
	{`"$URI." . "x"`, "/uri/klaus.x"},
	{`qq{<$URI>}`, "</uri/klaus>"},
	{`"$QUERY_STRING:$METHOD"`, "a=1:GET"},
	{`'$URI'`, "$URI"},
}

func TestInterpolationOfScalarsAndElements(t *testing.T) {
	checkScalar(t, interpolationCases)
	env := newTestEnv()
	env.args = []Value{Str("secret"), Str("x")}
	v, err := eval(env, `"AuthName \"$ARGV[0]\" $ARGV[-1]"`)
	if err != nil || v.String() != `AuthName "secret" x` {
		t.Errorf(`"AuthName \"$ARGV[0]\"" = %q, %v`, v.String(), err)
	}
}

var variableCases = []struct{ src, want string }{
	{`$URI`, "/uri/klaus"},
	{`$REAL_URI`, "/uri/klaus?a=1"},
	{`$METHOD`, "GET"},
	{`$QUERY_STRING`, "a=1"},
	{`$FILENAME`, "<undef>"},
	{`$DOCROOT`, "/var/www"},
	{`$HOSTNAME`, "www.xyz.de"},
	{`$PATH_INFO`, "<undef>"},
	{`$REQUEST`, "GET /uri/klaus?a=1 HTTP/1.1"},
	{`$CLIENTIP`, "192.0.2.7"},
	{`$KEEPALIVE`, "1"},
	{`$MATCHED_URI`, "/uri"},
	{`$MATCHED_PATH_INFO`, "/klaus"},
	{`$KEY`, "default"},
	{`$DEBUG`, "<undef>"},
	{`$STATE`, "1"},
	{`$RC`, "<undef>"},
	{`$CTX{lang}`, "de"},
	{`$CTX{'lang'}`, "de"},
	{`$CTX{"lang"}`, "de"},
	{`$CTX{ lang }`, "de"},
	{`$CTX{missing}`, "<undef>"},
	{`$ctx->{lang}`, "de"},
	{`$CTX{'la'.'ng'}`, "de"},
	{`$HEADERS->{Host}`, "www.xyz.de:8080"},
	{`$HEADERS->{'USER-AGENT'}`, "test"},
	{`$HEADERS->{Missing}`, "<undef>"},
	{`$ARGV[0]`, "<undef>"},
	{`$r->uri`, "/uri/klaus"},
	{`$r->unparsed_uri`, "/uri/klaus?a=1"},
	{`$r->method`, "GET"},
	{`$r->args`, "a=1"},
	{`$r->path_info`, "<undef>"},
	{`$r->the_request`, "GET /uri/klaus?a=1 HTTP/1.1"},
	{`$r->filename`, "<undef>"},
	{`$r->handler`, "<undef>"},
	{`$r->document_root`, "/var/www"},
	{`$r->get_server_name`, "localhost"},
	{`$r->get_server_port`, "8080"},
	{`$r->hostname()`, "www.xyz.de"},
	{`$r->connection->remote_ip`, "192.0.2.7"},
	{`$r->connection->keepalive`, "1"},
	{`$C->remote_ip`, "192.0.2.7"},
	{`$r->headers_in->{host}`, "www.xyz.de:8080"},
	{`$r->headers_in->get('Host')`, "www.xyz.de:8080"},
	{`$r->notes->{none}`, "<undef>"},
	{`defined $r->main ? "sub" : "main"`, "main"},
	{`START . PREPROC . PROC . DONE . LOOKUPFILE`, "01234"},
	{`Apache2::Const::OK`, "0"},
	{`Apache2::Const::DECLINED`, "-1"},
	{`Apache2::Const::DONE`, "-2"},
	{`Apache2::Const::NOT_FOUND`, "404"},
	{`Apache2::Const::FORBIDDEN`, "403"},
	{`Apache2::Const::SERVER_ERROR`, "500"},
	{`Apache2::Const::REDIRECT`, "302"},
	{`Apache2::Const::HTTP_MOVED_PERMANENTLY`, "301"},
	{`$CTX{DONE}`, "<undef>"},
}

func TestVariablesReadTheRequest(t *testing.T) {
	checkScalar(t, variableCases)
}

func TestArgvIndexes(t *testing.T) {
	env := newTestEnv()
	env.args = []Value{Str("a"), Str("b"), Str("c")}
	for src, want := range map[string]string{
		`$ARGV[0]`: "a", `$ARGV[2]`: "c", `$ARGV[3]`: "<undef>", `$ARGV[-1]`: "c",
		`$ARGV[1.9]`: "b", `$ARGV['1']`: "b", `$ARGV[$STATE]`: "b",
		// Perl's integer conversion: +Inf is -1, -Inf far before the start.
		`$ARGV[9**9**9]`: "c", `$ARGV[-9**9**9]`: "<undef>", `$ARGV['nan']`: "a",
	} {
		if v, err := eval(env, src); err != nil || show(v) != want {
			t.Errorf("%s = %s, %v; want %s", src, show(v), err, want)
		}
	}
}

func TestMainRequest(t *testing.T) {
	env := newTestEnv()
	_, err := eval(env, `$r->main->args==1`)
	var e *Error
	if !errors.As(err, &e) || !e.Runtime || e.Msg != `Can't call method "args" on an undefined value` {
		t.Fatalf("top-level request: err = %v", err)
	}
	env.main = true
	env.vars[MainArgs] = Str("1")
	if v, err := eval(env, `$r->main->args==1`); err != nil || !v.Truth() {
		t.Errorf("subrequest with args 1: %s, %v", show(v), err)
	}
	if v, err := eval(env, `$r->main ? "sub" : "main"`); err != nil || v.String() != "sub" {
		t.Errorf("$r->main in a subrequest: %s, %v", show(v), err)
	}
}

var assignmentSteps = []struct{ src, want string }{
	{`$KEY='k'`, "k"},
	{`$DEBUG=3`, "3"},
	{`$MATCHED_URI='/subr/subr'`, "/subr/subr"},
	{`$STATE=DONE`, "3"},
	{`$FILENAME = $DOCROOT . $MATCHED_PATH_INFO`, "/var/www/klaus"},
	{`$URI=do{ '/new' }`, "/new"},
	{`$CTX{lang}='en'`, "en"},
	{`$ctx->{R} = 7`, "7"},
	{`$CTX{R} .= "x"`, "7x"},
	{`$CTX{n} += 2`, "2"},
	{`$CTX{n} *= 5`, "10"},
	{`$CTX{n} ||= 99`, "10"},
	{`$CTX{m} ||= 99`, "99"},
	{`$CTX{z} //= 0`, "0"},
	{`$CTX{z} &&= 5`, "0"},
	{`$r->notes->{t}=$r->notes->{t}." init";`, " init"},
	{`$r->notes->{t}=$r->notes->{t}." pre"`, " init pre"},
	{`$r->notes->add("fixup_add", "1")`, "<undef>"},
	{`$r->notes->add(fixup_add => "2")`, "<undef>"},
	{`$r->notes->get('fixup_add')`, "1"},
	{`$r->notes->set(s => 'v')`, "<undef>"},
	{`$r->filename('/')`, "/var/www/klaus"},
	{`$r->handler('cgi-script')`, "<undef>"},
	{`$r->uri('/u2'); $URI`, "/u2"},
	{`$a = 1`, ""},
}

func TestAssignmentChangesTheRequest(t *testing.T) {
	env := newTestEnv()
	for _, tt := range assignmentSteps {
		v, err := eval(env, tt.src)
		if tt.src == `$a = 1` {
			if err == nil {
				t.Errorf("%s: want an error", tt.src)
			}
			continue
		}
		if err != nil || show(v) != tt.want {
			t.Errorf("%s = %s, %v; want %s", tt.src, show(v), err, tt.want)
		}
	}
	checks := map[string]Value{
		"KEY": env.vars[Key], "DEBUG": env.vars[Debug], "MATCHED_URI": env.vars[MatchedURI],
		"STATE": env.vars[State], "FILENAME": env.vars[Filename], "HANDLER": env.vars[Handler],
		"URI": env.vars[URI], "lang": env.ctx["lang"], "R": env.ctx["R"],
	}
	want := map[string]string{
		"KEY": "k", "DEBUG": "3", "MATCHED_URI": "/subr/subr", "STATE": "3", "FILENAME": "/",
		"HANDLER": "cgi-script", "URI": "/u2", "lang": "en", "R": "7x",
	}
	for k, v := range checks {
		if v.String() != want[k] {
			t.Errorf("%s = %q, want %q", k, v.String(), want[k])
		}
	}
	if got := strings.Join(env.noteStrings("t"), "|"); got != " init pre" {
		t.Errorf("note t = %q", got)
	}
	if got := strings.Join(env.noteStrings("fixup_add"), "|"); got != "1|2" {
		t.Errorf("note fixup_add = %q", got)
	}
	if got := strings.Join(env.noteStrings("s"), "|"); got != "v" {
		t.Errorf("note s = %q", got)
	}
}

// assignmentStates are assignments with the value Perl gives them and the
// %CTX and $KEY they leave (sorted, as state shows them), checked with
// perl 5.36 from %CTX = (lang => 'de') and $KEY = 'default'.
var assignmentStates = []struct{ src, want, state string }{
	// = evaluates its right side first, a compound assignment its left.
	{`$CTX{$KEY} = ($KEY = 'k')`, "k", "k=k lang=de $KEY=k"},
	{`$ctx->{$KEY} = ($KEY = 'k') . $KEY`, "kk", "k=kk lang=de $KEY=k"},
	{`$CTX{$CTX{lang}} = ($CTX{lang} = 'en') . '!'`, "en!", "en=en! lang=en $KEY=default"},
	{`$CTX{a} = $CTX{b} = $KEY`, "default", "a=default b=default lang=de $KEY=default"},
	{`$CTX{$KEY} .= ($KEY = 'k')`, "k", "default=k lang=de $KEY=k"},
	{`$CTX{$KEY} += ($KEY = 'k')`, "0", "default=0 lang=de $KEY=k"},
	{`$CTX{$KEY} ||= ($KEY = 'k')`, "k", "default=k lang=de $KEY=k"},
	{`$CTX{lang} &&= ($KEY = 'k')`, "k", "lang=k $KEY=k"},
	// An element of %CTX that &&= assigns nothing to exists after it.
	{`$CTX{$KEY} &&= ($KEY = 'k')`, "<undef>", "default=<undef> lang=de $KEY=default"},
	{`$CTX{new} &&= 1`, "<undef>", "lang=de new=<undef> $KEY=default"},
	{`$ctx->{new} &&= 1`, "<undef>", "lang=de new=<undef> $KEY=default"},
	{`$CTX{new} ||= 0`, "0", "lang=de new=0 $KEY=default"},
	{`$CTX{new} //= undef`, "<undef>", "lang=de new=<undef> $KEY=default"},
	{`$CTX{z} = 0; $CTX{z} &&= 1`, "0", "lang=de z=0 $KEY=default"},
	{`$KEY = undef; $KEY &&= 1`, "<undef>", "lang=de $KEY=<undef>"},
	// += and -= take an undefined target for the integer 0.
	{`$CTX{new} += 1e15`, "1000000000000000", "lang=de new=1000000000000000 $KEY=default"},
	{`$CTX{new} -= 1e15`, "-1000000000000000", "lang=de new=-1000000000000000 $KEY=default"},
	// The notes are a tied hash, of which &&= creates nothing (perl 5.36
	// with a Tie::StdHash).
	{`$r->notes->{new} &&= 1; $r->notes->{new}`, "<undef>", "lang=de $KEY=default"},
}

func TestAssignmentsLeaveTheStatePerlDoes(t *testing.T) {
	for _, tt := range assignmentStates {
		env := newTestEnv()
		v, err := eval(env, tt.src)
		if err != nil || show(v) != tt.want || env.state() != tt.state || len(env.notes) > 0 {
			t.Errorf("%s = %s, %v, leaving %s and %d notes; want %s, leaving %s", tt.src, show(v), err, env.state(), len(env.notes), tt.want, tt.state)
		}
	}
}

func TestAssignmentReturnsAssignedValueAndKeepsNumbers(t *testing.T) {
	env := newTestEnv()
	v, err := eval(env, `$RC = Apache2::Const::OK`)
	if err != nil || v.String() != "0" || env.vars[RC].IsUndef() || env.vars[RC].Number() != 0 {
		t.Fatalf("$RC = OK: %s, %v, RC=%s", show(v), err, show(env.vars[RC]))
	}
	v, err = eval(env, `$CTX{a} = $CTX{b} = 'x'`)
	if err != nil || v.String() != "x" || env.ctx["a"].String() != "x" || env.ctx["b"].String() != "x" {
		t.Errorf("chained assignment: %s, %v", show(v), err)
	}
	if _, err := eval(env, `$CTX{list} = ['a', 'b']`); err != nil {
		t.Fatal(err)
	}
	if v, err := eval(env, `$CTX{list}->[1] . $CTX{list}[0] . $ctx->{list}->[-1]`); err != nil || v.String() != "bab" {
		t.Errorf("array ref in %%CTX: %s, %v", show(v), err)
	}
}

func TestRefusedAssignmentIsRuntimeError(t *testing.T) {
	env := newTestEnv()
	p, err := Compile(`$CTX{before} = 1; $r->uri('/a'); $MATCHED_URI = 'x'; $CTX{after} = 1`)
	if err != nil {
		t.Fatal(err)
	}
	readOnly := &refusingEnv{testEnv: env, refuse: MatchedURI}
	_, err = p.Scalar(readOnly)
	var e *Error
	if !errors.As(err, &e) || !e.Runtime || !strings.Contains(e.Msg, "read-only") {
		t.Fatalf("err = %v, want a runtime error carrying the Env's message", err)
	}
	if !env.ctx["after"].IsUndef() || env.ctx["before"].IsUndef() {
		t.Error("evaluation must stop at the refused assignment")
	}
}

// refusingEnv refuses to set one variable.
type refusingEnv struct {
	*testEnv
	refuse Var
}

func (e *refusingEnv) Set(v Var, x Value) error {
	if v == e.refuse {
		return errReadOnly
	}
	return e.testEnv.Set(v, x)
}

// fullEnv keeps nothing more in %CTX and the notes.
type fullEnv struct{ *testEnv }

var errFull = errors.New("no room left")

func (fullEnv) SetCTX(string, Value) error  { return errFull }
func (fullEnv) SetNote(string, Value) error { return errFull }
func (fullEnv) AddNote(string, Value) error { return errFull }

// TestRefusedKeepingIsRuntimeError: an Env that does not keep a %CTX
// entry or a note fails the evaluation with a runtime error carrying its
// message, at the assignment or call, whatever its form.
func TestRefusedKeepingIsRuntimeError(t *testing.T) {
	for _, src := range []string{`$CTX{a} = 1`, `$ctx->{a} = 1`, `$CTX{a} .= 'x'`, `$r->notes->{n} = 1`,
		`$r->notes->add(n => 1)`, `$r->notes->set('n', 1)`} {
		p, err := Compile(src + `; $DEBUG = 1`)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		env := newTestEnv()
		_, err = p.Scalar(fullEnv{env})
		var e *Error
		if !errors.As(err, &e) || !e.Runtime || e.Msg != errFull.Error() || e.Pos < 0 {
			t.Errorf("%s: err = %#v, want a runtime error %q", src, err, errFull)
		}
		if !env.Get(Debug).IsUndef() {
			t.Errorf("%s: evaluation went on after the refusal", src)
		}
	}
}

var listCases = []struct{ src, want string }{
	{`['AuthName "secret"'], ['AuthType Basic']`, `[AuthName "secret"], [AuthType Basic]`},
	{`403, 'Forbidden by Apache2::Translation(11)'`, "403, Forbidden by Apache2::Translation(11)"},
	{`'http://xyz.com'.$URI, 301`, "http://xyz.com/uri/klaus, 301"},
	{`'/uri', 'k2'`, "/uri, k2"},
	{`'text/html', 'HTML'`, "text/html, HTML"},
	{`'AllowOverride AuthConfig', 'Options FollowSymLinks'`, "AllowOverride AuthConfig, Options FollowSymLinks"},
	{`qw/AUTH Department_1 dep1/`, "AUTH, Department_1, dep1"},
	{`qw!sub 1!`, "sub, 1"},
	{`qw{a b}, qw[c], qw<d e>`, "a, b, c, d, e"},
	{`(1, (2, 3), [4, (5, 6)]), ()`, "1, 2, 3, [4, 5, 6]"},
	{`['AuthName "'.$ARGV[0].'"', '/x']`, `[AuthName "Dept", /x]`},
	{`()`, ""},
	{`1 ? (1, 2) : (3)`, "1, 2"},
	{`0 || (1, 2)`, "1, 2"},
	{`5 && ()`, ""},
	{`do { $CTX{x} = 1; (7, 8) }`, "7, 8"},
	{`"2024-05" =~ /^(\d+)-(\d+)$/`, "2024, 05"},
	{`"abc" =~ /b/`, "1"},
	{`"abc" =~ /x/`, ""},
	{`"abc" =~ /(x)?b/`, "<undef>"},
	{`$HOSTNAME`, "www.xyz.de"},
	{`(1, 2) x 2`, "1, 2, 1, 2"},
	{`qw(a b)x2`, "a, b, a, b"},
	{`(1) x 3, 'b'`, "1, 1, 1, b"},
	{`'a' x 2, 'b'`, "aa, b"},
	{`(1, 2) x 2 x 2, 5`, "2222, 5"},
	{`((1, 2), 3) x 2`, "1, 2, 3, 1, 2, 3"},
	{`1 ? (1, 2) x 2 : 0`, "1, 2, 1, 2"},
	{`(1, 2) x 2 ? 'a' : 'b'`, "a"},
	{`($CTX{a} = 1, 2) x 2`, "1, 2, 1, 2"},
	{`(1, 2) x 0`, ""},
	{`!(1, 2) x 2`, ""},
}

func TestListContext(t *testing.T) {
	env := newTestEnv()
	env.args = []Value{Str("Dept")}
	for _, tt := range listCases {
		l, err := evalList(env, tt.src)
		if err != nil || showList(l) != tt.want {
			t.Errorf("%s = (%s), %v; want (%s)", tt.src, showList(l), err, tt.want)
		}
	}
	// Scalar context of a comma list is its last element.
	for src, want := range map[string]string{
		`403, 'Forbidden'`: "Forbidden", `qw(a b c)`: "c", `(1, 2, 3)`: "3", `()`: "<undef>",
		`['a'], ['b']`: "[b]",
	} {
		if v, err := eval(env, src); err != nil || show(v) != want {
			t.Errorf("scalar %s = %s, %v; want %s", src, show(v), err, want)
		}
	}
}

// TestDocumentedExamples runs the expressions EVALUATION.md sections 2 and
// 3 quote from the upstream documentation and test suite.
var documentedCases = []struct{ src, want string }{
	{`$HOSTNAME !~ /^(?:www\.)xyz\.(?:com|de)$/`, ""},
	{`$HOSTNAME =~ /de$/`, "1"},
	{`$DOCROOT.'/'.$CTX{lang}.$MATCHED_PATH_INFO`, "/var/www/de/klaus"},
	{`'http://backend/'.$URI.'?l='.$CTX{lang}`, "http://backend//uri/klaus?l=de"},
	{`'http://'.join(':', $r->get_server_name, $r->get_server_port).'/redirect1'`, "http://localhost:8080/redirect1"},
	{`'http://'.join(':', $r->get_server_name, $r->get_server_port).'/tstp'.$MATCHED_PATH_INFO`, "http://localhost:8080/tstp/klaus"},
	{`'/ALIAS'.$MATCHED_PATH_INFO`, "/ALIAS/klaus"},
	{`$r->document_root.$MATCHED_PATH_INFO`, "/var/www/klaus"},
	{`'My::Handler'`, "My::Handler"},
	{`'TestHandler::pathinfo'`, "TestHandler::pathinfo"},
	{`':CALL:'`, ":CALL:"},
	{`0`, "0"},
	{`" ".$CLIENTIP`, " 192.0.2.7"},
	{`"[LOOKUPFILE FIXUP]"`, "[LOOKUPFILE FIXUP]"},
	{`$r->notes->{t}=$r->notes->{t}." init";`, " init"},
	{`$KEY='k'`, "k"},
	{`$STATE=DONE`, "3"},
	{`$MATCHED_URI='/subr/subr'`, "/subr/subr"},
	{`$CTX{lang}='en'; $KEY='k';`, "k"},
	{`$r->filename('/'); $FILENAME`, "/"},
	{`$r->handler('cgi-script'); $r->handler`, "cgi-script"},
	{`$r->args`, "a=1"},
	{`$r->connection->remote_ip`, "192.0.2.7"},
	{`$HEADERS->{Host}`, "www.xyz.de:8080"},
	{`$r->notes->add(fixupnote=>"[$URI $PATH_INFO]")`, "<undef>"},
	{`$r->notes->add(transnote=>"[LOOKUPFILE M2S]")`, "<undef>"},
	{`$r->notes->{n1}=$ARGV[0]`, "<undef>"},
	{`$CTX{lang} eq 'de' ? '/de' : '/en'`, "/de"},
	{`$FILENAME=do{ $DOCROOT.'/index.html' }`, "/var/www/index.html"},
	{`$URI=do{ '/x' }`, "/x"},
}

func TestDocumentedExamples(t *testing.T) {
	checkScalar(t, documentedCases)
	env := newTestEnv()
	l, err := evalList(env, `qw!sub 1!`)
	if err != nil || showList(l) != "sub, 1" {
		t.Errorf("Call: qw!sub 1! gives (%s), %v", showList(l), err)
	}
	env.args = l[1:]
	if v, err := eval(env, `$r->notes->{n1}=$ARGV[0]; $r->notes->{n1}`); err != nil || v.String() != "1" {
		t.Errorf("note n1 = %s, %v", show(v), err)
	}
	_, err = eval(env, `die "ERROR"`)
	var e *Error
	if !errors.As(err, &e) || !e.Runtime || e.Msg != "ERROR" || e.Unsupported {
		t.Errorf(`die "ERROR": %v`, err)
	}
	if v, err := eval(env, `Apache2::Const::FORBIDDEN, 'Forbidden by Apache2::Translation(11)'`); err != nil || v.String() != "Forbidden by Apache2::Translation(11)" {
		t.Errorf("Error list in scalar context: %s, %v", show(v), err)
	}
}

var captureCases = []struct{ src, want string }{
	{`$URI =~ m{^/(\w+)/(\w+)}; "$2:$1"`, "klaus:uri"},
	{`$URI =~ m{^/(\w+)} && $1`, "uri"},
	{`$1`, "<undef>"},
	{`$URI =~ /(nomatch)/; $1`, "<undef>"},
	{`$URI =~ /(uri)/; $URI =~ /(nomatch)/; $1`, "uri"},
	{`$URI =~ /(uri)/; $URI =~ /klaus/; $1`, "<undef>"},
	{`$URI =~ /(uri)/; $URI =~ /kl(a)/; $1`, "a"},
	{`$URI =~ /(u)(r)(i)\/(k)(l)(a)(u)(s)/; "$8$9"`, "s"},
	{`$HOSTNAME =~ /^(?<sub>\w+)\./; $1`, "www"},
	{`$URI =~ /(x)?(uri)/; defined $1 ? 'd' : 'u'`, "u"},
	{`$CTX{x} = ($URI =~ /^\/(\w+)/) ? $1 : 'none'; $CTX{x}`, "uri"},
}

func TestCapturesAreSetBySuccessfulMatches(t *testing.T) {
	checkScalar(t, captureCases)
}

var regexCases = []struct{ src, want string }{
	{`"a\n" =~ /a$/`, "1"},
	{`"a\n" =~ /^a$/`, "1"},
	{`"a\nb" =~ /^a$/`, ""},
	{`"a\nb" =~ /^b$/m`, "1"},
	{`"a\n" =~ /a\Z/`, "1"},
	{`"a\n" =~ /a\z/`, ""},
	{`"x/y" =~ /x\/y/`, "1"},
	{`"x/y" =~ m!x/y!`, "1"},
	{`"x!y" =~ m!x\!y!`, "1"},
	{`"a{b}" =~ m{a\{b\}}`, "1"},
	{`"a}b" =~ m{a[\}]b}`, "1"},
	{`"a(b)" =~ m(a\(b\))`, "1"},
	{`"a<b>" =~ m<a<b>>`, "1"},
	{`"[x]" =~ /[]x[]+/`, "1"},
	{`"a\$" =~ /a[$]/`, "1"},
	{`"ab" =~ /a$|b/`, "1"},
	{`"ABC" =~ / a b c # comment
		/xi`, "1"},
	{`"a b" =~ /a\ b/x`, "1"},
	{`"a#b" =~ /a[#]b/x`, "1"},
	{`"abc" =~ /[[:alpha:]]+$/`, "1"},
	{`"a.c" =~ /^a\.c$/`, "1"},
	{`"abc" =~ /^a\.c$/`, ""},
	{`"www.xyz.de" =~ /^www\./`, "1"},
	{`"xwww.xyz.de" =~ /^www\./`, ""},
	{`"www.xyz.de" =~ /xyz/`, "1"},
	{`"www.xyz.de" =~ /^www.xyz.de$/`, "1"},
	{`"" =~ /^$/`, "1"},
	{`"x" =~ /$/`, "1"},
}

func TestRegexTranslation(t *testing.T) {
	checkScalar(t, regexCases)
}

var re2RejectedSources = []string{
	`$URI =~ /(a)\1/`,
	`$URI =~ /(?<=a)b/`,
	`$URI =~ /a(?=b)/`,
	`$URI =~ /a(?!b)/`,
	`$URI =~ /a++/`,
	`$URI =~ /(?>a)/`,
	`$URI =~ /\Ga/`,
}

func TestRegexRE2CannotCompileIsCompileError(t *testing.T) {
	for _, src := range re2RejectedSources {
		_, err := Compile(src)
		var e *Error
		if !errors.As(err, &e) || !e.Unsupported || e.Runtime {
			t.Errorf("%s: err = %v, want an unsupported compile error", src, err)
		}
	}
	for _, src := range []string{`$URI =~ /(a/`, `$URI =~ /a)/`, `$URI =~ /[a/`, `$URI =~ /a{2,1}/`} {
		_, err := Compile(src)
		var e *Error
		if !errors.As(err, &e) || e.Unsupported || e.Runtime {
			t.Errorf("%s: err = %v, want a syntax error", src, err)
		}
	}
}

var unsupportedSources = []string{
	`sub {use TestModule; TestModule->handler(@_)}`,
	`sub { my $r=shift; $r->print("x"); return 0 }`,
	`require TestModule`,
	`use POSIX`,
	`my $x = 1`,
	`local $x`,
	`our $x`,
	`map { $_ } qw(a b)`,
	`grep /x/, qw(a b)`,
	`eval "1"`,
	`goto &foo`,
	"`ls`",
	`qx{ls}`,
	`system "ls"`,
	`exec "ls"`,
	`open F, "x"`,
	`print "x"`,
	`$r->$method(1)`,
	`@{$ctx}{qw/name file/}=(1, 2)`,
	`$URI =~ s/a/b/`,
	`$URI =~ tr/a/b/`,
	`$URI =~ y/a/b/`,
	`$ENV{HOME}`,
	`%ENV`,
	`@INC`,
	`$_`,
	`$0`,
	`$$`,
	`$@`,
	`@ARGV`,
	`%CTX`,
	`<<EOF`,
	`<STDIN>`,
	`$r->lookup_uri('/x')`,
	`$r->lookup_file('/x')`,
	`$r->pnotes->{x}`,
	`$r->notes->unset('x')`,
	`$r->connection->aborted`,
	`$r->main->uri`,
	`TestModule->handler`,
	`foo(1)`,
	`bareword`,
	`Apache2::Const::HTTP_OK`,
	`$x`,
	`"$r"`,
	`"@ARGV"`,
	`"user@example.com"`,
	`"\U$URI"`,
	`/x/`,
	`$URI =~ $CTX{re}`,
	`$URI =~ /$CTX{re}/`,
	`$URI =~ /a/g`,
	`$URI =~ /a/e`,
	`$URI =~ //`,
	`-e "/etc/passwd"`,
	`\$URI`,
	`$CTX{n}++`,
	`1 .. 5`,
	`1 | 2`,
	`$ARGV[0] = 1`,
	`$HEADERS->{x} = 1`,
	`$1 = 'x'`,
	`$r->uri = 'x'`,
	`$r->get_server_name('x')`,
	`substr($URI, 0, 1, 'x')`,
	`lc`,
	`while (1) { 1 }`,
	`1 while 0`,
	`{ a => 1 }`,
	`&foo`,
	`*foo`,
	`(1, 2)[0]`,
	`$CTX{x}{y}`,
	`$URI->foo`,
	`undef $CTX{x}`,
	`undef +$URI`,
	`undef * 2`,
	`do "file.pl"`,
	`1 xor 0`,
	`__END__`,
	`qr/x/`,
	`1.5.3`,
	`.5.3`,
	`'a'.1.5.3`,
}

func TestUnsupportedPerlIsMarked(t *testing.T) {
	for _, src := range unsupportedSources {
		_, err := Compile(src)
		var e *Error
		if !errors.As(err, &e) || !e.Unsupported || e.Runtime {
			t.Errorf("%s: err = %v, want an unsupported compile error", src, err)
			continue
		}
		if e.Pos < 0 || e.Pos > len(src) || e.Msg == "" {
			t.Errorf("%s: error without position or reason: %+v", src, e)
		}
	}
}

var syntaxErrorSources = []string{
	`1 +`,
	`(1`,
	`1)`,
	`'abc`,
	`"abc`,
	`$CTX{'a'`,
	`1 1`,
	`$URI = `,
	`1 ? 2`,
	`join`,
	`substr("a")`,
	`1 = 2`,
	`"a $ b"`,
	`"x$"`,
	`08`,
	`do { 1`,
	`if (1) 1`,
	`$r->`,
	`$r->notes->get(1, 2)`,
	"\x01",
	`;;)`,
	`1 <=> 2 <=> 3`,
	`1 cmp 2 cmp 3`,
	`1 == 2 <=> 3`,
	`1 <=> 2 == 3`,
	`lc(qw(A B))`,
	`length qw(abc de)`,
	`lc +(1, 2)`,
	`1.$KEY`,
	`1.e`,
	`1ex`,
	`if (1) { 1 } x 3`,
	// Perl reads a term after undef as the variable to undefine.
	`undef + 1`,
	`undef - 1`,
	`undef .5`,
	`undef 'a'`,
	`undef !1`,
	`undef [1]`,
	`undef x 2`,
	`undef / 1`,
	// not needs an operand.
	`not`,
	`1 + not`,
	`not;`,
	`not, 1`,
	`(not)`,
	`1 if not`,
}

func TestSyntaxErrorsAreNotUnsupported(t *testing.T) {
	for _, src := range syntaxErrorSources {
		_, err := Compile(src)
		var e *Error
		if !errors.As(err, &e) || e.Unsupported || e.Runtime {
			t.Errorf("%s: err = %v, want a syntax error", src, err)
		}
	}
}

func TestErrorString(t *testing.T) {
	_, err := Compile(`require Foo`)
	if got := err.Error(); got != "expr: unsupported at byte 0: loading modules (require) is not available" {
		t.Errorf("Error() = %q", got)
	}
	_, err = eval(newTestEnv(), `1; die "ERROR at ", "action"`)
	if got := err.Error(); got != "expr: runtime error at byte 3: ERROR at action" {
		t.Errorf("Error() = %q", got)
	}
	if got := (&Error{Pos: -1, Msg: "m"}).Error(); got != "expr: syntax error: m" {
		t.Errorf("Error() = %q", got)
	}
}

func TestRuntimeErrors(t *testing.T) {
	for _, tt := range []struct{ src, msg string }{
		{`die "ERROR"`, "ERROR"},
		{`die "ERROR\n"`, "ERROR"},
		{`die`, "Died"},
		{`die "a", "b"`, "ab"},
		{`$CTX{x} = 1 or die "never"; die "x$CTX{x}"`, "x1"},
		{`1 / 0`, "Illegal division by zero"},
		{`1 % 0`, "Illegal modulus zero"},
		{`5 % 0.5`, "Illegal modulus zero"},
		{`1e20 % 0.4`, "Illegal modulus zero"},
		{`1 % ''`, "Illegal modulus zero"},
		{`$CTX{lang} / 0.0`, "Illegal division by zero"},
		{`$r->main->args`, `Can't call method "args" on an undefined value`},
		{`$CTX{lang}->[0]`, "Not an ARRAY reference"},
		{`$r->notes->{x} = 1; $CTX{s} = 'x' x 2000000`, "string result longer than 1048576 bytes"},
		{`sprintf("%1001s", 1)`, "sprintf width or precision above 1000"},
		{`sprintf("%.1001f", 1)`, "sprintf width or precision above 1000"},
		{`sprintf("a%nb")`, "Missing argument for %n in sprintf"},
		{`sprintf("%5n|%s", 1)`, "sprintf's %n, which stores into its argument, is not supported"},
		{`sprintf('%2$n', 1)`, "Missing argument for %n in sprintf"},
		{`sprintf("%c", -1)`, "Use of code point 0xFFFFFFFFFFFFFFFF is not allowed; the permissible max is 0x7FFFFFFFFFFFFFFF"},
		{`sprintf("%5c", 1e19)`, "Use of code point 0x8AC7230489E80000 is not allowed"},
		{`sprintf("%c", -1e19)`, "Use of code point 0x8000000000000000 is not allowed"},
		{`sprintf("%c", 9**9**9)`, "Cannot printf Inf with 'c'"},
		{`sprintf("%c", '-inf')`, "Cannot printf -Inf with 'c'"},
		{`sprintf("%c", 'nan')`, "Cannot printf NaN with 'c'"},
	} {
		_, err := eval(newTestEnv(), tt.src)
		var e *Error
		if !errors.As(err, &e) || !e.Runtime || e.Unsupported || !strings.Contains(e.Msg, tt.msg) {
			t.Errorf("%s: err = %v, want runtime error %q", tt.src, err, tt.msg)
		}
	}
	l, err := evalList(newTestEnv(), `1, die "x"`)
	if err == nil || l != nil {
		t.Errorf("List with die = %v, %v; want nil and an error", l, err)
	}
}

func TestDieStopsEvaluation(t *testing.T) {
	env := newTestEnv()
	_, err := eval(env, `$CTX{a} = 1; die "stop"; $CTX{b} = 1`)
	if err == nil || env.ctx["a"].IsUndef() || !env.ctx["b"].IsUndef() {
		t.Errorf("err = %v, ctx = %v", err, env.ctx)
	}
	if v, err := eval(env, `0 && die "no"; 1 || die "no"; 'ok'`); err != nil || v.String() != "ok" {
		t.Errorf("short-circuit must skip die: %s, %v", show(v), err)
	}
}

func TestStringResultsAreBounded(t *testing.T) {
	env := newTestEnv()
	env.ctx["big"] = Str(strings.Repeat("x", MaxString-1))
	for _, src := range []string{
		`$CTX{big} . "ab"`,
		`"$CTX{big}ab"`,
		`join("ab", $CTX{big}, $CTX{big})`,
		`sprintf("%s%s", $CTX{big}, $CTX{big})`,
		`sprintf("%vd", $CTX{big})`,
		`sprintf("%*vd", $CTX{big}, "ab")`,
		`$CTX{big} x 2`,
		`'a' x 18446744073709551615`,
		`'a' x 1e18`,
		`$CTX{x} = $CTX{big}; $CTX{x} .= "ab"`,
		`die $CTX{big}, $CTX{big}`,
	} {
		_, err := eval(env, src)
		var e *Error
		if !errors.As(err, &e) || !e.Runtime || !strings.Contains(e.Msg, "longer than") {
			t.Errorf("%s: err = %v, want the string limit", src, err)
		}
	}
	if v, err := eval(env, `$CTX{big} . "a"`); err != nil || len(v.String()) != MaxString {
		t.Errorf("a string of exactly MaxString bytes: len %d, %v", len(v.String()), err)
	}
}

// A repeated list is bounded as a string is, counting each element as a
// Value's size, before it is made.
func TestRepeatedListsAreBounded(t *testing.T) {
	most := MaxString / valueSize
	for _, src := range []string{`(1, 2) x 1e9`, `(1) x 2**62`, `(1) x 9223372036854775808`, fmt.Sprintf(`((1) x %d) x 2`, most)} {
		l, err := evalList(newTestEnv(), src)
		var e *Error
		if !errors.As(err, &e) || !e.Runtime || !e.Limit || l != nil {
			t.Errorf("%s: %d elements, %v; want the limit", src, len(l), err)
		}
	}
	if l, err := evalList(newTestEnv(), fmt.Sprintf(`(1) x %d`, most)); err != nil || len(l) != most {
		t.Errorf("a list of %d elements: %d, %v", most, len(l), err)
	}
	env := newTestEnv()
	if l, err := evalList(env, `('a', 'b') x 3`); err != nil || len(l) != 6 || env.work != 6*int64(valueSize) {
		t.Errorf("6 elements: %d, %v, spent %d", len(l), err, env.work)
	}
}

func TestNestingIsBounded(t *testing.T) {
	for _, src := range []string{
		strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300),
		strings.Repeat("!", 300) + "1",
		strings.Repeat("-", 300) + "1",
		strings.Repeat("1 ? ", 300) + "1" + strings.Repeat(" : 0", 300),
		strings.Repeat("[", 300) + strings.Repeat("]", 300),
		strings.Repeat("do { ", 300) + strings.Repeat("}", 300),
		strings.Repeat("$CTX{", 300) + "1" + strings.Repeat("}", 300),
		strings.Repeat("$CTX{x} = ", 300) + "1",
		"1" + strings.Repeat(" ** 1", 300),
		`"$CTX{` + strings.Repeat("$CTX{", 300) + "1" + strings.Repeat("}", 301) + `"`,
	} {
		_, err := Compile(src)
		var e *Error
		if !errors.As(err, &e) || e.Runtime {
			t.Errorf("%.40s...: err = %v, want a compile error", src, err)
		}
	}
	// Long flat chains the tables use stay fine.
	src := `'a'` + strings.Repeat(` . $URI`, 2000)
	if v, err := eval(newTestEnv(), src); err != nil || len(v.String()) != 1+2000*len("/uri/klaus") {
		t.Errorf("long concatenation: %v", err)
	}
	src = `1` + strings.Repeat(` + 2 * 3 - 1`, 5000) // ((1 + 6) - 1) + 6 ...
	if v, err := eval(newTestEnv(), src); err != nil || v.String() != "25001" {
		t.Errorf("long sum: %s, %v", show(v), err)
	}
	src = `$CTX{none}` + strings.Repeat(` || $HOSTNAME eq 'x'`, 2500) + ` || 'last' && 'end'`
	if v, err := eval(newTestEnv(), src); err != nil || v.String() != "end" {
		t.Errorf("long alternatives: %s, %v", show(v), err)
	}
	src = `0 || 'first'` + strings.Repeat(` || die('no')`, 3000) + ` && die('no')`
	if v, err := eval(newTestEnv(), src); err != nil || v.String() != "first" {
		t.Errorf("long alternatives after a true one: %s, %v", show(v), err)
	}
	src = `1` + strings.Repeat(`, 1`, 5000)
	if l, err := evalList(newTestEnv(), src); err != nil || len(l) != 5001 {
		t.Errorf("long list: %d, %v", len(l), err)
	}
	src = strings.Repeat("(", MaxNesting-1) + "1" + strings.Repeat(")", MaxNesting-1)
	if _, err := Compile(src); err != nil {
		t.Errorf("%d nested parentheses: %v", MaxNesting-1, err)
	}
}

var statementCases = []struct{ src, want string }{
	{``, "<undef>"},
	{`;`, "<undef>"},
	{`1;`, "1"},
	{`1;;2;`, "2"},
	{`$CTX{a}=1; $CTX{b}=2; $CTX{a}+$CTX{b}`, "3"},
	{`do { $CTX{a} = 'x'; $CTX{a} . 'y' }`, "xy"},
	{`if ($CTX{lang} eq 'de') { 'de' } elsif ($CTX{lang} eq 'en') { 'en' } else { 'other' }`, "de"},
	{`unless ($CTX{lang} eq 'de') { 'not' } else { 'de' }`, "de"},
	{`if (1) { $CTX{x} = 1 } $CTX{x} + 1`, "2"},
	{`$CTX{y} = 5 if $CTX{lang} eq 'de'; $CTX{y}`, "5"},
	{`$CTX{y} = 5 unless $CTX{lang} eq 'de'; $CTX{y}`, "<undef>"},
	{`$CTX{lang} eq 'de' and $CTX{z} = 1; $CTX{z}`, "1"},
	{`$CTX{lang} eq 'en' or $CTX{z} = 2; $CTX{z}`, "2"},
	{`not $CTX{lang} eq 'de'`, ""},
	{"# a comment\n$URI # trailing\n", "/uri/klaus"},
	{"$URI\n.\n'x'", "/uri/klausx"},
}

func TestStatementsAndBlocks(t *testing.T) {
	checkScalar(t, statementCases)
}

var functionCases = []struct{ src, want string }{
	{`join(':', $r->get_server_name, $r->get_server_port)`, "localhost:8080"},
	{`join '', qw(a b c)`, "abc"},
	{`join(',')`, ""},
	{`lc $HOSTNAME eq 'www.xyz.de'`, "1"},
	{`uc($METHOD) . lc('ÄB')`, "GET\xc3\x84b"},
	{`lc($CTX{missing})`, ""},
	{`length $URI`, "10"},
	{`length($CTX{missing})`, "<undef>"},
	{`length "ä"`, "2"},
	{`length $URI > 5 ? 'long' : 'short'`, "long"},
	{`substr $URI, 1, 3`, "uri"},
	{`substr($URI, -5)`, "klaus"},
	{`substr($URI, 20)`, "<undef>"},
	{`defined $CTX{lang}`, "1"},
	{`defined($CTX{missing})`, ""},
	{`defined $ARGV[0] ? 1 : 0`, "0"},
	{`sprintf("%s:%d", $HOSTNAME, $r->get_server_port)`, "www.xyz.de:8080"},
	{`sprintf("%03d|%.2f|%5.1e", 7, 2.5, 31415)`, "007|2.50|3.1e+04"},
	{`sprintf('%s')`, ""},
	{`sprintf('%d%%', 50)`, "50%"},
	{`sprintf('%c', 0x263A)`, "☺"},
	{`sprintf('%v')`, "%v"},
	{`sprintf('%')`, "%"},
	{`sprintf('%-3s|', 'ä')`, "ä |"},
}

func TestFunctions(t *testing.T) {
	checkScalar(t, functionCases)
	v, err := eval(newTestEnv(), `sprintf('%s', [1])`)
	if err != nil || !strings.HasPrefix(v.String(), "ARRAY(0x") {
		t.Errorf("sprintf of a reference: %s, %v", show(v), err)
	}
}

func TestConcurrentEvaluation(t *testing.T) {
	p, err := Compile(`$URI =~ m{^/(\w+)}; $CTX{seen} = $1; $r->notes->add(t => $1); "$1:" . $CTX{n} . ':' . ($HOSTNAME =~ /de$/ ? 'de' : 'other')`)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				env := newTestEnv()
				word := fmt.Sprintf("w%d", g)
				env.vars[URI] = Str("/" + word + "/x")
				env.ctx["n"] = Int(int64(i))
				if g%2 == 1 {
					env.vars[Hostname] = Str("xyz.com")
				}
				want := fmt.Sprintf("%s:%d:%s", word, i, map[bool]string{true: "other", false: "de"}[g%2 == 1])
				v, err := p.Scalar(env)
				if err != nil || v.String() != want || env.ctx["seen"].String() != word || env.Note("t").String() != word {
					errs <- fmt.Errorf("goroutine %d: %q, %v; want %q", g, v.String(), err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestSourceIsKept(t *testing.T) {
	const src = `$URI . 'x'`
	p, err := Compile(src)
	if err != nil || p.Source() != src {
		t.Fatalf("Source = %q, %v", p.Source(), err)
	}
}

func TestCompileForOneContext(t *testing.T) {
	env := newTestEnv()
	src := `'a', 'b'.'c'`
	s, err := CompileFor(src, ScalarContext)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.Scalar(env); err != nil || v.String() != "bc" {
		t.Errorf("Scalar of the scalar program: %q, %v", v.String(), err)
	}
	var xe *Error
	if vals, err := s.List(env); vals != nil || !errors.As(err, &xe) || !xe.Runtime {
		t.Errorf("List of the scalar program: %v, %v; want a runtime error", vals, err)
	}
	l, err := CompileFor(src, ListContext)
	if err != nil {
		t.Fatal(err)
	}
	if vals, err := l.AppendList(env, []Value{Str("x")}); err != nil || len(vals) != 3 || vals[2].String() != "bc" {
		t.Errorf("AppendList of the list program: %v, %v", vals, err)
	}
	if v, err := l.Scalar(env); !v.IsUndef() || !errors.As(err, &xe) || !xe.Runtime {
		t.Errorf("Scalar of the list program: %v, %v; want undef and a runtime error", v, err)
	}
	// A compile error is reported whichever context is asked for.
	if _, err := CompileFor(`$x = (`, ListContext); err == nil {
		t.Error("a syntax error compiled")
	}
}

// TestConstantArraysAreMadeOnce: an array of constants (as Config's
// pairs are) is one reference for every evaluation, made without
// allocating; an array with a variable in it is made anew each time.
func TestConstantArraysAreMadeOnce(t *testing.T) {
	env := newTestEnv()
	p, err := Compile(`['AuthName "x"', qw(b c), ('d', ()), 5]`)
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Scalar(env)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := p.Scalar(env)
	if got := show(a); got != `[AuthName "x", b, c, d, 5]` || show(b) != got {
		t.Errorf("the constant array is %s, then %s", show(a), show(b))
	}
	if a.String() != b.String() {
		t.Errorf("two evaluations gave %s and %s, want one reference", a, b)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = p.Scalar(env) }); n != 0 {
		t.Errorf("a constant array allocates %v times per evaluation", n)
	}
	v, err := Compile(`[$URI, 'x']`)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := v.Scalar(env)
	d, _ := v.Scalar(env)
	if c.String() == d.String() {
		t.Error("an array of a variable was made once")
	}
	if elems, ok := c.Elems(); !ok || len(elems) != 2 || elems[0].String() != "/uri/klaus" {
		t.Errorf("[$URI, 'x'] = %s", show(c))
	}
}

// TestNestedArraysCompileInLinearMemory: arrays of constants nested
// deeply with something not constant at the bottom are each found not
// constant once, not once per level (which made compiling such a row
// cost its depth times its size).
func TestNestedArraysCompileInLinearMemory(t *testing.T) {
	const depth, width = 150, 10000
	src := strings.Repeat("[", depth) + strings.Repeat("1,", width) + "$URI" + strings.Repeat("]", depth)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	p, err := CompileFor(src, ScalarContext)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	// The source, its tokens and its tree take some megabytes; building
	// the width's values once per level took hundreds.
	got := after.TotalAlloc - before.TotalAlloc
	if got > 40<<20 {
		t.Errorf("compiling %d bytes allocated %d MiB", len(src), got>>20)
	}
	t.Logf("compiling %d bytes allocated %.1f MiB", len(src), float64(got)/(1<<20))
	v, err := p.Scalar(newTestEnv())
	for range depth - 1 {
		elems, ok := v.Elems()
		if err != nil || !ok || len(elems) != 1 {
			t.Fatalf("not an array of one array: %v, %v", show(v), err)
		}
		v = elems[0]
	}
	if elems, ok := v.Elems(); !ok || len(elems) != width+1 || elems[width].String() != "/uri/klaus" {
		t.Errorf("the innermost array: %d elements", len(elems))
	}
}

// TestLongSourcesCompileInLinearMemory: the longest sources compile in
// memory in proportion to their size, whatever they are made of (a
// chain of constants joined by '.' once took memory in proportion to the
// square of its length); a longer one is refused.
func TestLongSourcesCompileInLinearMemory(t *testing.T) {
	for _, unit := range []string{"'a'.", "1,", "$CTX{a}=1;", "[1],", `"a$URI".`} {
		src := strings.Repeat(unit, (MaxSource-len(unit))/len(unit)) + "1"
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := CompileFor(src, ScalarContext|ListContext)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Errorf("%d bytes of %q: %v", len(src), unit, err)
		}
		// Up to about a kilobyte per byte of source (56 MiB for the
		// 64 KiB of "1,"); twice that is the bound. The chain of
		// constants took 295 MiB.
		if got := after.TotalAlloc - before.TotalAlloc; got > 2048*MaxSource {
			t.Errorf("%d bytes of %q allocated %d MiB to compile", len(src), unit, got>>20)
		}
	}
	_, err := CompileFor(strings.Repeat(" ", MaxSource)+"1", ScalarContext)
	var e *Error
	if !errors.As(err, &e) || !e.Unsupported || !strings.Contains(e.Msg, "longer than 65536") {
		t.Errorf("a source longer than MaxSource: %v", err)
	}
}

// TestWorkIsSpent: what an evaluation builds, compares and scans is told
// to Env.Spend, byte for byte; a refusal stops the evaluation with a
// runtime error, so that the environment bounds what many operations of
// a megabyte each do together.
func TestWorkIsSpent(t *testing.T) {
	for _, tt := range []struct {
		src  string
		work int64
	}{
		{`'x' x 10`, 10},
		{`"a$URI"`, 11},
		{`$URI . 'b'`, 11},
		{`$URI eq 'x'`, 10},
		{`$URI eq $METHOD`, 13},
		{`$URI lt 1`, 10},
		{`$URI == 1`, 10},
		{`-$URI`, 10},
		{`$URI + 1`, 10},
		{`$URI =~ /klaus$/`, 10},
		{`$URI =~ /^\/x(\w+)/`, 2}, // the anchored text does not start $URI
		{`uc($URI)`, 10},
		{`length($URI)`, 0},
		{`join(',', 'a', 'b')`, 3},
		{`sprintf('%s', $URI)`, 2 + 10 + 10},            // the format, the argument, the result
		{`sprintf('%1$s%1$s', $URI)`, 8 + 10 + 10 + 20}, // each reading of the argument
		{`'x' x $URI`, 10},                              // the count read as a number
		{`substr('abc', $URI)`, 10},
		{`[1]->[$URI]`, 10},
		{`$CTX{a} = 'x'; $CTX{a} .= $URI`, 11},
		{`$CTX{$URI}`, 10},
		{`$CTX{$URI} = 1`, 10},
		{`$r->notes->add($URI, 1)`, 10},
		{`$HEADERS->{$METHOD}`, 3},
	} {
		env := newTestEnv()
		if _, err := eval(env, tt.src); err != nil {
			t.Fatalf("%s: %v", tt.src, err)
		}
		if env.work != tt.work {
			t.Errorf("%s: spent %d, want %d", tt.src, env.work, tt.work)
		}
	}
	env := newTestEnv()
	if _, err := eval(env, `$URI =~ /k.a/`); err != nil || env.work <= int64(len("/uri/klaus")) {
		t.Errorf("a pattern match spent %d, %v; want more than the subject's length", env.work, err)
	}
	// An anchored pattern whose text starts the subject runs.
	env = newTestEnv()
	if v, err := eval(env, `$URI =~ /^\/uri\/(\w+)$/ ? $1 : 0`); err != nil || v.String() != "klaus" || env.work <= 11 {
		t.Errorf("an anchored match = %s, %v, spent %d; want klaus", show(v), err, env.work)
	}

	env = newTestEnv()
	env.maxWork = 64 << 20
	src := strings.Repeat("'a' x 1e6, ", 100) + "1"
	l, err := evalList(env, src)
	var e *Error
	if !errors.As(err, &e) || !e.Runtime || !strings.Contains(e.Msg, "too much work") || l != nil {
		t.Errorf("a list of 100 strings of 1 MB: %d elements, %v; want the work refused", len(l), err)
	}
	if env.work > env.maxWork+1e6 {
		t.Errorf("spent %d past the bound of %d", env.work, env.maxWork)
	}
}

// TestFootprintIsAboveWhatAProgramKeeps: Footprint, which bounds what a
// cache of programs keeps, is above the memory a program of each shape
// holds once compiled, the longest sources included.
func TestFootprintIsAboveWhatAProgramKeeps(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes what a compiled program keeps")
	}
	fill := func(unit string) string { return strings.Repeat(unit, (MaxSource-1)/len(unit)) + "1" }
	for _, src := range []string{
		`'http://backend17/'.$URI`, `'a' x 1000000`, `qw(a b c d)`, `$HOSTNAME =~ /^www\.site0001\./`,
		`$r->connection->remote_ip ne '10.1.2.3'`, `['AuthName "x"'], ['AuthType Basic']`,
		`$URI =~ /(ab){1000}/`, `$URI =~ /^(\w+)\.(\d+)$/ ? $1 : $2`, `sprintf('%s-%d', $URI, 1)`,
		fill("1,"), fill("$CTX{a}=1;"), fill(`"a$URI".`), fill("[1],"), fill("[$URI],"), fill(`$CTX{$URI}.`),
		fill("($URI eq 'abc'),"), fill(`$r->notes->{a}.`), fill("qw(a b),"), fill("$ARGV[0]."),
		strings.Repeat(`$URI=~/a.b/,`, 1600) + "1",
	} {
		// The heap also grows by what other goroutines allocate meanwhile
		// (the runtime's, an earlier test's): a measurement is taken again
		// when it is above the bound, and the least of three counts.
		kept, fp := 0, 0
		for try := 0; try < 3 && (try == 0 || kept > fp); try++ {
			k, f := keptByProgram(t, src)
			if try == 0 || k < kept {
				kept = k
			}
			fp = f
		}
		if kept > fp {
			t.Errorf("%.40s (%d bytes): keeps %d bytes, footprint %d", src, len(src), kept, fp)
		}
	}
}

// keptByProgram compiles src three times and returns the heap each
// Program keeps, measured, and its Footprint.
func keptByProgram(t *testing.T, src string) (kept, footprint int) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ps := make([]*Program, 3)
	for i := range ps {
		p, err := CompileFor(src, ScalarContext|ListContext)
		if err != nil {
			t.Fatalf("%.40s: %v", src, err)
		}
		ps[i] = p
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	kept = int(after.HeapAlloc-before.HeapAlloc) / len(ps)
	runtime.KeepAlive(ps)
	return kept, ps[0].Footprint()
}
