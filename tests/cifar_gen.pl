# cifar_gen.pl N SEED FILE [LABEL_BYTES]: N records in the CIFAR binary format
# (label byte(s), then 1024 R, 1024 G, 1024 B bytes). Class k (0..9) has a
# bright 4-row band at rows 3k..3k+3 of channel k % 3 over noise, so a small
# CNN learns it in an epoch. With LABEL_BYTES 2 (CIFAR-100) the coarse label
# is k / 5 and the fine label k.
use strict;
my ($n, $seed, $file, $lb) = @ARGV;
$lb ||= 1;
srand($seed);
open(my $f, '>:raw', $file) or die "$file: $!";
for my $r (1 .. $n) {
    my $k = int(rand(10));
    my @p;
    for my $c (0 .. 2) {
        for my $y (0 .. 31) {
            my $band = $c == $k % 3 && $y >= 3 * $k && $y < 3 * $k + 4;
            push @p, map { int(rand(60)) + ($band ? 150 : 0) } 0 .. 31;
        }
    }
    print $f pack("C*", ($lb == 2 ? (int($k / 5)) : ()), $k, @p);
}
close $f;
