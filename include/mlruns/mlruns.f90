! Fortran bindings for the mlruns C API (include/mlruns/c.h), through
! iso_c_binding. Compile this module with your program and link -lmlruns
! (and the C++ runtime: link with the C++ compiler, or add -lstdc++).
!
! Strings passed in must be NUL-terminated: trim(name)//c_null_char.
! Pass c_null_ptr as errptr and read mlruns_last_error_f() after a failure.
! Functions return 0 (MLRUNS_OK) or an error code; nothing ever aborts.
module mlruns
  use, intrinsic :: iso_c_binding
  implicit none

  integer(c_int), parameter :: MLRUNS_OK = 0
  integer(c_int), parameter :: MLRUNS_INVALID_ARGUMENT = 1
  integer(c_int), parameter :: MLRUNS_ALREADY_EXISTS = 3
  integer(c_int), parameter :: MLRUNS_ERRORS_RETURN = 0, MLRUNS_ERRORS_PRINT = 1
  integer(c_int), parameter :: MLRUNS_RUN_FINISHED = 3, MLRUNS_RUN_FAILED = 4, MLRUNS_RUN_KILLED = 5
  integer, parameter :: MLRUNS_ID_BUFSIZE = 257

  interface
    function mlruns_store_open(tracking_uri, error_mode, errptr) bind(c, name="mlruns_store_open")
      import :: c_ptr, c_char, c_int
      character(kind=c_char), dimension(*), intent(in) :: tracking_uri
      integer(c_int), value :: error_mode
      type(c_ptr), value :: errptr
      type(c_ptr) :: mlruns_store_open
    end function

    function mlruns_store_close(store) bind(c, name="mlruns_store_close")
      import :: c_ptr, c_int
      type(c_ptr), value :: store
      integer(c_int) :: mlruns_store_close
    end function

    function mlruns_get_or_create_experiment(store, name, id_buf, id_buf_size, errptr) &
        bind(c, name="mlruns_get_or_create_experiment")
      import :: c_ptr, c_char, c_int, c_size_t
      type(c_ptr), value :: store
      character(kind=c_char), dimension(*), intent(in) :: name
      character(kind=c_char), dimension(*), intent(out) :: id_buf
      integer(c_size_t), value :: id_buf_size
      type(c_ptr), value :: errptr
      integer(c_int) :: mlruns_get_or_create_experiment
    end function

    ! parent_run_id: c_null_ptr for a top-level run, or mlruns_run_id(parent).
    function mlruns_start_run(store, experiment_id, run_name, parent_run_id, errptr) &
        bind(c, name="mlruns_start_run")
      import :: c_ptr, c_char
      type(c_ptr), value :: store
      character(kind=c_char), dimension(*), intent(in) :: experiment_id, run_name
      type(c_ptr), value :: parent_run_id
      type(c_ptr), value :: errptr
      type(c_ptr) :: mlruns_start_run
    end function

    function mlruns_run_id(run) bind(c, name="mlruns_run_id")
      import :: c_ptr
      type(c_ptr), value :: run
      type(c_ptr) :: mlruns_run_id
    end function

    function mlruns_log_param(run, key, value, errptr) bind(c, name="mlruns_log_param")
      import :: c_ptr, c_char, c_int
      type(c_ptr), value :: run
      character(kind=c_char), dimension(*), intent(in) :: key, value
      type(c_ptr), value :: errptr
      integer(c_int) :: mlruns_log_param
    end function

    function mlruns_log_metric(run, key, value, step, errptr) bind(c, name="mlruns_log_metric")
      import :: c_ptr, c_char, c_int, c_double, c_int64_t
      type(c_ptr), value :: run
      character(kind=c_char), dimension(*), intent(in) :: key
      real(c_double), value :: value
      integer(c_int64_t), value :: step
      type(c_ptr), value :: errptr
      integer(c_int) :: mlruns_log_metric
    end function

    function mlruns_set_tag(run, key, value, errptr) bind(c, name="mlruns_set_tag")
      import :: c_ptr, c_char, c_int
      type(c_ptr), value :: run
      character(kind=c_char), dimension(*), intent(in) :: key, value
      type(c_ptr), value :: errptr
      integer(c_int) :: mlruns_set_tag
    end function

    function mlruns_log_artifact(run, local_path, artifact_path, errptr) bind(c, name="mlruns_log_artifact")
      import :: c_ptr, c_char, c_int
      type(c_ptr), value :: run
      character(kind=c_char), dimension(*), intent(in) :: local_path, artifact_path
      type(c_ptr), value :: errptr
      integer(c_int) :: mlruns_log_artifact
    end function

    ! flavor: "onnx", "torchscript" or a generic flavor name; "" for the
    ! defaults (artifact_path "model", flavor "mlruns", no signature).
    function mlruns_log_model(run, local_path, artifact_path, flavor, signature, errptr) &
        bind(c, name="mlruns_log_model")
      import :: c_ptr, c_char, c_int
      type(c_ptr), value :: run
      character(kind=c_char), dimension(*), intent(in) :: local_path, artifact_path, flavor, signature
      type(c_ptr), value :: errptr
      integer(c_int) :: mlruns_log_model
    end function

    ! source: "runs:/<run id>/model"; alias "" for none; version receives the number.
    function mlruns_register_model(store, name, source, alias, version, errptr) &
        bind(c, name="mlruns_register_model")
      import :: c_ptr, c_char, c_int, c_int64_t
      type(c_ptr), value :: store
      character(kind=c_char), dimension(*), intent(in) :: name, source, alias
      integer(c_int64_t), intent(out) :: version
      type(c_ptr), value :: errptr
      integer(c_int) :: mlruns_register_model
    end function

    function mlruns_set_model_alias(store, name, alias, version, errptr) bind(c, name="mlruns_set_model_alias")
      import :: c_ptr, c_char, c_int, c_int64_t
      type(c_ptr), value :: store
      character(kind=c_char), dimension(*), intent(in) :: name, alias
      integer(c_int64_t), value :: version
      type(c_ptr), value :: errptr
      integer(c_int) :: mlruns_set_model_alias
    end function

    function mlruns_log_artifacts(run, local_dir, artifact_path, errptr) bind(c, name="mlruns_log_artifacts")
      import :: c_ptr, c_char, c_int
      type(c_ptr), value :: run
      character(kind=c_char), dimension(*), intent(in) :: local_dir, artifact_path
      type(c_ptr), value :: errptr
      integer(c_int) :: mlruns_log_artifacts
    end function

    function mlruns_run_flush(run, errptr) bind(c, name="mlruns_run_flush")
      import :: c_ptr, c_int
      type(c_ptr), value :: run
      type(c_ptr), value :: errptr
      integer(c_int) :: mlruns_run_flush
    end function

    function mlruns_end_run(run, status, errptr) bind(c, name="mlruns_end_run")
      import :: c_ptr, c_int
      type(c_ptr), value :: run
      integer(c_int), value :: status
      type(c_ptr), value :: errptr
      integer(c_int) :: mlruns_end_run
    end function

    function mlruns_run_close(run) bind(c, name="mlruns_run_close")
      import :: c_ptr, c_int
      type(c_ptr), value :: run
      integer(c_int) :: mlruns_run_close
    end function

    function mlruns_last_error() bind(c, name="mlruns_last_error")
      import :: c_ptr
      type(c_ptr) :: mlruns_last_error
    end function

    function c_strlen(s) bind(c, name="strlen")
      import :: c_ptr, c_size_t
      type(c_ptr), value :: s
      integer(c_size_t) :: c_strlen
    end function
  end interface

contains

  ! A Fortran copy of a NUL-terminated C string owned by the library.
  function mlruns_string(p) result(s)
    type(c_ptr), intent(in) :: p
    character(len=:), allocatable :: s
    character(kind=c_char), pointer :: chars(:)
    integer :: i, n
    if (.not. c_associated(p)) then
      s = ''
      return
    end if
    n = int(c_strlen(p))
    call c_f_pointer(p, chars, [n])
    allocate(character(len=n) :: s)
    do i = 1, n
      s(i:i) = chars(i)
    end do
  end function

  ! The calling thread's last error message.
  function mlruns_last_error_f() result(s)
    character(len=:), allocatable :: s
    s = mlruns_string(mlruns_last_error())
  end function

  ! The id written by mlruns_get_or_create_experiment, without its NUL and padding.
  function mlruns_trim_id(buf) result(s)
    character(len=*), intent(in) :: buf
    character(len=:), allocatable :: s
    integer :: n
    n = index(buf, c_null_char) - 1
    if (n < 0) n = len_trim(buf)
    s = buf(1:n)
  end function
end module mlruns
