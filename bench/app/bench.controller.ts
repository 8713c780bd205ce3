import { Controller, Get, SetMetadata } from '@nestjs/common';
import { Public } from '@apex/nest-auth';

/** Marks a route public for the bench's guards that are not this module's. */
export const BENCH_PUBLIC = 'bench:public';

const ANSWER = { ok: true } as const;

/**
 * The routes measured: one public, one guarded, answering the same, so that
 * the difference between them is the guard's.
 */
@Controller()
export class BenchController {
  @Public()
  @SetMetadata(BENCH_PUBLIC, true)
  @Get('public')
  open(): typeof ANSWER {
    return ANSWER;
  }

  @Get('guarded')
  guarded(): typeof ANSWER {
    return ANSWER;
  }
}
