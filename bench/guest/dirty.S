/*
 * A multiboot guest for the QEMU side of bench/: dirties whole 4 KiB pages of guest RAM at a fixed rate,
 * paced by the ACPI PM timer (3.579545 MHz, port PM_TMR). Like savevm's workload generator: 90 % of the
 * writes go to a hot tenth of the region, the rest anywhere in it. The rate is two 32-bit words patched
 * by bench/migrate_bench.py: pages per period and PM timer ticks per period.
 *
 * Built with: as --32 dirty.S -o dirty.o && ld -m elf_i386 -Ttext 0x100000 -e _start dirty.o -o dirty.elf
 */
    .set MB_MAGIC, 0x1BADB002
    .set MB_FLAGS, 0
    .set PM_TMR, 0x608
    .set REGION_START, 0x01000000      /* 16 MiB: clear of the kernel, stack and BIOS areas */
    .text
    .code32
    .globl _start
    .align 4
mb_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
    .ascii "RATE"                       /* marker the bench looks for when patching */
pages_per_period:
    .long 122                           /* 50 MB/s with 10 ms periods */
ticks_per_period:
    .long 35795                         /* 10 ms of the PM timer */
region_pages:
    .long (0x40000000 - REGION_START) / 4096

_start:
    cli
    mov $0x80000, %esp
    mov $0x12345678, %ebp               /* LCG state */
    mov $PM_TMR, %dx
    in %dx, %eax
    and $0xffffff, %eax
    mov %eax, last_tick
    xor %esi, %esi                      /* value written, changes every period */
wait:
    mov $PM_TMR, %dx
    in %dx, %eax
    and $0xffffff, %eax
    sub last_tick, %eax
    and $0xffffff, %eax
    cmp ticks_per_period, %eax
    jb wait
    mov last_tick, %eax
    add ticks_per_period, %eax
    and $0xffffff, %eax
    mov %eax, last_tick
    inc %esi
    mov pages_per_period, %ecx
    test %ecx, %ecx
    jz wait
page:
    push %ecx
    /* ebp = ebp * 1103515245 + 12345 */
    mov %ebp, %eax
    mov $1103515245, %ebx
    mul %ebx
    add $12345, %eax
    mov %eax, %ebp
    shr $8, %eax                        /* 24 random bits */
    xor %edx, %edx
    mov region_pages, %ebx
    test $0x7, %ebp                     /* about 1 in 8 goes anywhere, the rest to the hot tenth */
    jz anywhere
    push %eax
    mov %ebx, %eax
    xor %edx, %edx
    mov $10, %ecx
    div %ecx
    mov %eax, %ebx
    pop %eax
    xor %edx, %edx
anywhere:
    div %ebx                            /* edx = page index */
    shl $12, %edx
    lea REGION_START(%edx), %edi
    mov %esi, %eax
    mov $1024, %ecx
    cld
    rep stosl
    pop %ecx
    loop page
    jmp wait

    .data
last_tick:
    .long 0
