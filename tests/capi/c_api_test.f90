! Logs a nested run from Fortran through include/mlruns/mlruns.f90 and checks
! the files it wrote. Usage: mlruns_fortran_test <tracking root>
program c_api_fortran_test
  use mlruns
  implicit none
  type(c_ptr) :: store, parent, child
  character(len=MLRUNS_ID_BUFSIZE) :: exp_buf
  character(len=:), allocatable :: exp_id, run_id
  character(len=1024) :: root
  integer(c_int64_t) :: step, version
  integer(c_int) :: rc
  logical :: exists
  integer :: unit
  integer :: failures = 0

  call get_command_argument(1, root)
  store = mlruns_store_open(trim(root)//c_null_char, MLRUNS_ERRORS_PRINT, c_null_ptr)
  if (.not. c_associated(store)) then
    print *, 'open failed: ', mlruns_last_error_f()
    stop 1
  end if

  call expect(mlruns_get_or_create_experiment(store, 'fortran-sweep'//c_null_char, exp_buf, &
                                              int(MLRUNS_ID_BUFSIZE, c_size_t), c_null_ptr), MLRUNS_OK)
  exp_id = mlruns_trim_id(exp_buf)

  parent = mlruns_start_run(store, exp_id//c_null_char, 'sweep'//c_null_char, c_null_ptr, c_null_ptr)
  child = mlruns_start_run(store, exp_id//c_null_char, 'trial-1'//c_null_char, mlruns_run_id(parent), c_null_ptr)
  if (.not. c_associated(parent) .or. .not. c_associated(child)) then
    print *, 'start_run failed: ', mlruns_last_error_f()
    stop 1
  end if
  run_id = mlruns_string(mlruns_run_id(child))

  call expect(mlruns_log_param(child, 'lr'//c_null_char, '0.001'//c_null_char, c_null_ptr), MLRUNS_OK)
  call expect(mlruns_set_tag(child, 'model_type'//c_null_char, 'PPO'//c_null_char, c_null_ptr), MLRUNS_OK)
  do step = 1, 10
    call expect(mlruns_log_metric(child, 'episode_reward_mean'//c_null_char, 10.0_c_double * step, &
                                  step, c_null_ptr), MLRUNS_OK)
  end do
  ! A refused key comes back as a code and a message; the program goes on.
  rc = mlruns_log_metric(child, '../bad'//c_null_char, 1.0_c_double, 0_c_int64_t, c_null_ptr)
  call expect(rc, MLRUNS_INVALID_ARGUMENT)
  if (index(mlruns_last_error_f(), '../bad') == 0) failures = failures + 1

  ! A model file, logged with a generic flavor, registered and aliased.
  open(newunit=unit, file=trim(root)//'/weights.bin', access='stream', status='replace')
  write(unit) 1.0_c_double
  close(unit)
  call expect(mlruns_log_model(child, trim(root)//'/weights.bin'//c_null_char, 'model'//c_null_char, &
                               'solver_weights'//c_null_char, c_null_char, c_null_ptr), MLRUNS_OK)
  call expect(mlruns_register_model(store, 'solver'//c_null_char, 'runs:/'//run_id//'/model'//c_null_char, &
                                    'champion'//c_null_char, version, c_null_ptr), MLRUNS_OK)
  if (version /= 1) failures = failures + 1
  call expect(mlruns_set_model_alias(store, 'solver'//c_null_char, 'champion'//c_null_char, 1_c_int64_t, &
                                     c_null_ptr), MLRUNS_OK)

  call expect(mlruns_end_run(child, MLRUNS_RUN_FINISHED, c_null_ptr), MLRUNS_OK)
  call expect(mlruns_run_close(child), MLRUNS_OK)
  call expect(mlruns_run_close(parent), MLRUNS_OK)
  call expect(mlruns_store_close(store), MLRUNS_OK)

  inquire(file=trim(root)//'/'//exp_id//'/'//run_id//'/metrics/episode_reward_mean', exist=exists)
  if (.not. exists) then
    print *, 'metric file missing'
    failures = failures + 1
  end if
  inquire(file=trim(root)//'/'//exp_id//'/'//run_id//'/params/lr', exist=exists)
  if (.not. exists) failures = failures + 1
  inquire(file=trim(root)//'/'//exp_id//'/'//run_id//'/artifacts/model/MLmodel', exist=exists)
  if (.not. exists) failures = failures + 1
  inquire(file=trim(root)//'/models/solver/aliases/champion', exist=exists)
  if (.not. exists) failures = failures + 1

  if (failures > 0) then
    print *, failures, ' failures'
    stop 1
  end if
  print *, 'fortran c api test: ok, run ', run_id

contains
  subroutine expect(got, want)
    integer(c_int), intent(in) :: got, want
    if (got /= want) then
      print *, 'got ', got, ' want ', want, ': ', mlruns_last_error_f()
      failures = failures + 1
    end if
  end subroutine
end program
