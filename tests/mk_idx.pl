#!/usr/bin/perl
# mk_idx.pl DIR NTRAIN NTEST SIDE — a small MNIST-style folder (the four IDX
# files) of SIDE x SIDE images in 10 classes: class k is a bright 3x3 blob
# at a position set by k, plus noise, from a fixed seed (so every run and
# every rank makes the same bytes).
use strict;
use warnings;

my ($dir, $ntr, $nte, $side) = @ARGV;
my $seed = 12345;
sub rnd { $seed = ($seed * 1103515245 + 12345) % 2147483648; return $seed / 2147483648; }

sub write_set {
    my ($prefix, $n) = @_;
    open(my $fi, '>:raw', "$dir/$prefix-images-idx3-ubyte") or die "$dir: $!\n";
    open(my $fl, '>:raw', "$dir/$prefix-labels-idx1-ubyte") or die "$dir: $!\n";
    print $fi pack('N4', 0x803, $n, $side, $side);
    print $fl pack('N2', 0x801, $n);
    for my $i (1 .. $n) {
        my $k = int(rnd() * 10);
        my @px = map { int(rnd() * 60) } 1 .. $side * $side;
        my $r0 = 1 + ($k % 4) * int(($side - 4) / 4);
        my $c0 = 1 + int($k / 4) * int(($side - 4) / 3);
        for my $dr (0 .. 2) {
            for my $dc (0 .. 2) {
                $px[($r0 + $dr) * $side + $c0 + $dc] = 200 + int(rnd() * 55);
            }
        }
        print $fi pack('C*', @px);
        print $fl pack('C', $k);
    }
    close $fi;
    close $fl;
}

mkdir $dir unless -d $dir;
write_set('train', $ntr);
write_set('t10k', $nte);
