#!/usr/bin/perl
# st_maxdiff.pl A.safetensors B.safetensors — the largest absolute difference
# between the tensors of two model files of the same architecture (every
# parameter and BatchNorm statistic), as "maxdiff X over N values"; exits 2
# if their tensors differ in names or shapes.
use strict;
use warnings;

sub load {
    my ($path) = @_;
    open(my $f, '<:raw', $path) or die "$path: $!\n";
    local $/;
    my $all = <$f>;
    close $f;
    my $n = unpack('Q<', substr($all, 0, 8));
    my $hdr = substr($all, 8, $n);
    my $data = substr($all, 8 + $n);
    my %t;
    while ($hdr =~ /"([^"]+)"\s*:\s*\{\s*"dtype"\s*:\s*"F32"\s*,\s*"shape"\s*:\s*\[([^\]]*)\]\s*,\s*"data_offsets"\s*:\s*\[\s*(\d+)\s*,\s*(\d+)\s*\]/g) {
        $t{$1} = [$2, substr($data, $3, $4 - $3)];
    }
    return \%t;
}

my ($a, $b) = (load($ARGV[0]), load($ARGV[1]));
my ($max, $count) = (0, 0);
for my $name (sort keys %$a) {
    my $y = $b->{$name};
    if (!$y || $y->[0] ne $a->{$name}[0]) {
        print "tensor $name differs in shape or is missing\n";
        exit 2;
    }
    my @x = unpack('f<*', $a->{$name}[1]);
    my @z = unpack('f<*', $y->[1]);
    for my $i (0 .. $#x) {
        my $d = abs($x[$i] - $z[$i]);
        $max = $d if $d > $max;
        $count++;
    }
}
exit 2 if keys %$a != keys %$b;
printf "maxdiff %.3g over %d values\n", $max, $count;
